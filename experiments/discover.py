"""`smartcity discover`: scenario discovery on an exploration (PRIM boxes, feature scores).

Given the experiments table of `smartcity explore` and a condition on its outcomes
(``--where "governance_gain < 0"``), PRIM (the patient rule induction method, Friedman and
Fisher 1999, as implemented by EMA Workbench's ``ema_workbench.analysis.prim``) peels the
input space down to a box of inputs where the condition holds in most runs: its
*coverage* (share of all runs meeting the condition that lie in the box) and *density*
(share of the runs in the box that meet it) trade off along the peeling trajectory. The
box reported is the one of highest coverage among those of density at least
``--threshold``. Beside it, CART (classification and regression trees, Breiman et al.
1984; EMA Workbench's ``ema_workbench.analysis.cart`` on a seeded scikit-learn tree) splits
the input space into leaves of at least ``CART_MASS`` of the runs; each leaf where the
condition holds in most runs is a box, reported with its coverage, density and restricted
inputs (Lempert et al. 2008 compare the two methods). Feature scores (extra-trees
importance, ``ema_workbench.analysis.feature_scoring``) say which inputs matter for each
outcome, whatever its sign.

Outputs in ``--out`` (default ``DIR/discover``): ``box.csv`` (each restricted input and its
range or its values), ``trajectory.csv``, ``cart_boxes.csv`` (a row per restricted input of
each CART box), ``feature_scores.csv``, ``discover.md``, and the figures
``peeling_trajectory.png``, ``cart_boxes.png`` and ``feature_scores.png``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from smartcity.experiments.cli_kit import EXIT_OK, guarded
from smartcity.experiments.explore import read_experiments
from smartcity.experiments.spec import SpecError
from smartcity.simulation.world.schema import (
    check_output_dir,
    one_line,
)

DEFAULT_THRESHOLD = 0.8
PEEL_ALPHA = 0.05  # share of the box peeled per step: EMA Workbench's default
FEATURE_TREES = 250
CART_MASS = 0.05  # least share of the runs in a leaf: EMA Workbench's default, as PRIM's


@dataclass(frozen=True)
class Box:
    """A PRIM box: the restricted inputs and how well the box captures the condition.

    Attributes:
        limits: one row per restricted input: ``input``, ``low``, ``high`` (numeric) or
            ``values`` (the kept categories, for a discrete input).
        coverage: share of the runs meeting the condition that lie in the box.
        density: share of the runs in the box that meet the condition.
        mass: share of all runs in the box.
        trajectory: the peeling trajectory (coverage, density, mass, res_dim per step).
        chosen: the row of the trajectory reported.
        cases: runs meeting the condition, of ``runs``.
        threshold: the least density asked for.
    """

    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    trajectory: pd.DataFrame
    chosen: int
    cases: int
    runs: int
    threshold: float

    @property
    def reached(self) -> bool:
        """Whether some box on the trajectory reached the asked density."""
        return self.density >= self.threshold


@dataclass(frozen=True)
class Leaf:
    """A CART box: a leaf of the tree where the condition holds in most runs.

    Attributes:
        limits: one row per restricted input, as `Box.limits`.
        coverage: share of the runs meeting the condition that lie in the leaf.
        density: share of the runs in the leaf that meet the condition.
        mass: share of all runs in the leaf.
    """

    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `discover` subcommand; the handler is `args.handler(args) -> exit status`."""
    parser = subparsers.add_parser(
        "discover",
        help="PRIM and CART boxes and feature scores of an exploration",
        description="Find the inputs under which WHERE holds (PRIM and CART), and score "
        "which inputs matter for each outcome, from DIR/experiments.parquet of `smartcity "
        "explore`.",
    )
    parser.add_argument("dir", type=Path, help="an exploration's output directory")
    parser.add_argument(
        "--where",
        required=True,
        help='condition on the outcome columns, e.g. "governance_gain < 0" (pandas syntax)',
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"least density of the reported box (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument("--out", type=Path, help="output directory (default DIR/discover)")
    parser.set_defaults(handler=command_discover)


def condition(table: pd.DataFrame, where: str) -> np.ndarray:
    """Evaluate ``where`` on the experiments table: a boolean per run.

    Raises:
        SpecError: the expression is not valid, names an unknown column, or is not a
            true/false condition.
    """
    try:
        value = table.eval(where)
    except Exception as exc:
        columns = ", ".join(c for c in table.columns if c.isidentifier())
        raise SpecError(
            f"--where {where!r} cannot be evaluated ({one_line(exc)}); columns: {columns}"
        ) from None
    if not (isinstance(value, pd.Series) and value.dtype == bool):
        raise SpecError(f"--where {where!r} is not a condition (true or false per run)")
    return value.to_numpy()


def _analysis(name: str) -> ModuleType:
    """Import a module of ``ema_workbench.analysis`` (the optional ``explore`` extra).

    EMA Workbench warns at import about optional parallel back ends this project does not
    use; those warnings are not the user's concern.

    Raises:
        SpecError: EMA Workbench is not installed (it names the extra to install).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(f"ema_workbench.analysis.{name}")
    except ImportError:
        raise SpecError(
            "scenario discovery needs EMA Workbench: pip install 'smartcity-abm[explore]'"
        ) from None


def find_box(x: pd.DataFrame, y: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> Box:
    """Run PRIM on inputs ``x`` for the boolean ``y`` and pick the box to report.

    The box is the point of the peeling trajectory with the highest coverage among those
    whose density reaches ``threshold``, the densest of them at equal coverage (the densest
    point when none reaches it).

    Raises:
        SpecError: no run, or every run, meets the condition (nothing to discover).
    """
    prim = _analysis("prim")
    cases = int(y.sum())
    if cases == 0 or cases == len(y):
        share = "no run" if cases == 0 else "every run"
        raise SpecError(f"{share} of {len(y)} meets the condition: there is no box to find")
    finder = prim.Prim(x.reset_index(drop=True), y.astype(bool), peel_alpha=PEEL_ALPHA)
    box = finder.find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
    dense = trajectory[trajectory["density"] >= threshold]
    if len(dense):
        # Highest coverage; among equal coverage the denser (the later, smaller) box.
        chosen = int(dense.sort_values(["coverage", "density"], kind="stable").index[-1])
    else:
        chosen = int(trajectory["density"].idxmax())
    limits = _restricted(box.box_lims[chosen], finder.box_init)
    row = trajectory.loc[chosen]
    return Box(limits, float(row["coverage"]), float(row["density"]), float(row["mass"]),
               trajectory, chosen, cases, len(y), threshold)  # fmt: skip


def find_leaves(x: pd.DataFrame, y: np.ndarray, seed: int = 0) -> list[Leaf]:
    """Grow a CART tree on inputs ``x`` for the boolean ``y``; return its boxes.

    The tree's leaves hold at least ``CART_MASS`` of the runs (one at least); a leaf is a
    box when most of its runs meet the condition. The tree is seeded, so equally good
    splits are broken the same way on every run. Boxes come highest coverage first.

    Raises:
        SpecError: no run, or every run, meets the condition (nothing to discover).
    """
    from sklearn.tree import DecisionTreeClassifier  # a dependency of EMA Workbench

    cart = _analysis("cart")
    initial = _analysis("scenario_discovery_util")._make_box(x.reset_index(drop=True))
    cases = int(y.sum())
    if cases == 0 or cases == len(y):
        share = "no run" if cases == 0 else "every run"
        raise SpecError(f"{share} of {len(y)} meets the condition: there is no box to find")
    finder = cart.CART(x.reset_index(drop=True), y.astype(bool), mass_min=CART_MASS)
    leaf_size = max(1, int(CART_MASS * len(y)))
    # CART.build_tree grows an unseeded tree; the same tree, seeded:
    finder.clf = DecisionTreeClassifier(min_samples_leaf=leaf_size, random_state=seed)
    finder.clf.fit(pd.get_dummies(finder.x, prefix_sep=finder.sep).to_numpy(), finder.y)
    leaves = []
    for lims, stats in zip(finder.boxes, finder.stats, strict=True):
        if stats["density"] <= 0.5:
            continue
        leaves.append(Leaf(_restricted(lims, initial), float(stats["coverage"]),
                           float(stats["density"]), float(stats["mass"])))  # fmt: skip
    return sorted(leaves, key=lambda leaf: (-leaf.coverage, -leaf.density))


def _restricted(lims: pd.DataFrame, initial: pd.DataFrame) -> pd.DataFrame:
    """The inputs whose limits differ from the initial box, as rows input/low/high/values."""
    rows = []
    for column in lims.columns:
        low, high = lims[column].iloc[0], lims[column].iloc[1]
        if isinstance(low, set):
            if low != initial[column].iloc[0]:
                kept = ", ".join(sorted(map(str, low)))
                rows.append({"input": column, "low": np.nan, "high": np.nan, "values": kept})
        elif (low, high) != (initial[column].iloc[0], initial[column].iloc[1]):
            rows.append({"input": column, "low": float(low), "high": float(high), "values": ""})
    return pd.DataFrame(rows, columns=["input", "low", "high", "values"])


def feature_scores(x: pd.DataFrame, outcomes: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Extra-trees importance of each input for each outcome (columns), rows = inputs.

    Each column sums to 1; the trees are seeded, so the scores are reproducible.
    """
    feature_scoring = _analysis("feature_scoring")
    RuleInductionType = _analysis("scenario_discovery_util").RuleInductionType

    scores = {}
    for name, values in outcomes.items():
        y = values.to_numpy()
        boolean = values.dtype == bool
        mode = RuleInductionType.CLASSIFICATION if boolean else RuleInductionType.REGRESSION
        table, _ = feature_scoring.get_ex_feature_scores(
            x.reset_index(drop=True), y, mode=mode, nr_trees=FEATURE_TREES, random_state=seed
        )
        scores[name] = table.iloc[:, 0]
    return pd.DataFrame(scores).reindex(x.columns)


def inputs_of(record: dict[str, Any], table: pd.DataFrame) -> list[str]:
    """Return the input columns of an experiments table from its exploration record."""
    keys = [f["key"] for f in record["uncertainties"]] + [f["key"] for f in record["levers"]]
    if not record["levers"] and table["policy"].nunique() > 1:
        keys.append("policy")
    if table["preset"].nunique() > 1:
        keys.append("preset")
    return keys


def discover(out_dir: Path, where: str, threshold: float, out: Path | None = None) -> list[Path]:
    """Run PRIM, CART and feature scoring on an exploration and write the outputs; return
    them."""
    from smartcity.experiments import figures  # its tables and figures

    table, record = read_experiments(out_dir)
    if not 0 < threshold <= 1:
        raise SpecError(f"--threshold {threshold:g} must lie in (0, 1]")
    y = condition(table, where)
    inputs = inputs_of(record, table)
    if not inputs:
        raise SpecError(f"{out_dir}: the exploration varies no input; nothing to discover")
    box = find_box(table[inputs], y, threshold)
    leaves = find_leaves(table[inputs], y)
    outcomes = [o["name"] for o in record["outcomes"]]
    scored = table[outcomes].assign(**{where: y})
    scores = feature_scores(table[inputs], scored)
    target = out or out_dir / "discover"
    check_output_dir(target)
    target.mkdir(parents=True, exist_ok=True)
    note = figures.exploration_note(record, len(table))
    written = [target / "box.csv", target / "trajectory.csv", target / "feature_scores.csv",
               target / "cart_boxes.csv"]  # fmt: skip
    box.limits.assign(coverage=box.coverage, density=box.density, mass=box.mass).to_csv(
        written[0], index=False
    )
    box.trajectory.rename_axis("step").to_csv(written[1])
    scores.rename_axis("input").to_csv(written[2])
    figures.leaves_table(leaves).to_csv(written[3], index=False)
    written.append(target / "discover.md")
    markdown = figures.box_markdown(box, where) + "\n" + figures.leaves_markdown(leaves, where)
    written[-1].write_text(markdown + "\n" + note + ".\n", encoding="utf-8")
    written.append(figures.plot_trajectory(box, where, note, target / "peeling_trajectory.png"))
    written.append(
        figures.plot_leaves(table[inputs], y, leaves, where, note, target / "cart_boxes.png")
    )
    written.append(figures.plot_scores(scores, note, target / "feature_scores.png"))
    (target / "discover.json").write_text(
        json.dumps({"where": where, "threshold": threshold, "inputs": inputs}, indent=2),
        encoding="utf-8",
    )
    return written


def command_discover(args: argparse.Namespace) -> int:
    """Handler of `smartcity discover`."""

    def body() -> int:
        for path in discover(args.dir, args.where, args.threshold, args.out):
            print(path)
        return EXIT_OK

    return guarded("discover", body)
