"""The engine: one compaction per phase, kernels that draw as numpy does, the metric store
and its record choices, the metric and analyzer plug-ins (issue 22, issue 24 item 2)."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys

import mesa
import numpy as np
import pandas as pd
import pytest

from smartcity.agents import kernels
from smartcity.agents.citizens import (
    MINUTES_WORKED_PER_MONTH,
    Citizens,
    choose_residence,
    pick_modes,
    residents_per_district,
    work_district,
)
from smartcity.agents.firms import Firms
from smartcity.agents.population import Population, choose_gumbel, rank_within_groups
from smartcity.cli import main
from smartcity.experiments.runner import RunTask, execute_run
from smartcity.experiments.runs import run_city
from smartcity.experiments.store import load_results
from smartcity.simulation.model import CityModel
from smartcity.simulation.model.analyzers import ANALYZERS, AgentSample
from smartcity.simulation.model.metrics import METRICS, metric
from smartcity.simulation.world.errors import ParameterError
from smartcity.simulation.world.vocabulary import DIGITAL_SERVICES, MICRO, TRANSIT, share


def _citizens(n: int) -> Citizens:
    c = Citizens(n)
    c.uid = np.arange(n, dtype=np.int64)
    c.age = np.arange(n, dtype=float)
    return c


def _rows(uids: list[int], start_age: float) -> dict[str, np.ndarray]:
    n = len(uids)
    rows = {name: np.zeros((n, *shape), dtype=dtype) for name, (dtype, shape) in
            Citizens.COLUMNS.items()}  # fmt: skip
    rows["uid"] = np.array(uids)
    rows["age"] = start_age + np.arange(n, dtype=float)
    return rows


def test_commit_applies_departures_and_arrivals_in_the_sequential_order():
    """Marked rows leave, staged rows follow the rows that stay in staging order, staged
    rows marked to leave never arrive: the same rows, in the same order, as keep and
    append one after the other."""
    c = _citizens(6)
    c.mark_gone(np.array([False, True, False, False, True, False]))
    c.stage(**_rows([10, 11], 50.0))
    c.stage(**_rows([20], 60.0))
    assert len(c) == 6 and c.count() == 7
    c.mark_gone(np.array([True, False, False, False, False, False]),
                staged=np.array([False, True, False]))  # fmt: skip
    assert c.count() == 5
    c.commit()
    assert c.uid.tolist() == [2, 3, 5, 10, 20]
    assert c.age.tolist() == [2.0, 3.0, 5.0, 50.0, 60.0]
    assert c.satisfaction.shape == (5, 5) and c.gone() is None and len(c.staged("uid")) == 0


def test_draws_for_the_remaining_rows_skip_the_rows_marked_to_leave():
    c = _citizens(4)
    assert c.for_remaining(np.array([0.1, 0.2, 0.3, 0.4]), fill=np.inf).tolist() == [
        0.1, 0.2, 0.3, 0.4]  # fmt: skip
    c.mark_gone(np.array([False, True, False, False]))
    spread = c.for_remaining(np.array([0.1, 0.3, 0.4]), fill=np.inf)
    assert spread.tolist() == [0.1, np.inf, 0.3, 0.4]


def test_staging_after_marking_staged_rows_is_refused():
    c = _citizens(2)
    c.stage(**_rows([5], 30.0))
    c.mark_gone(np.zeros(2, dtype=bool), staged=np.array([True]))
    with pytest.raises(RuntimeError, match="staged after"):
        c.stage(**_rows([6], 30.0))


def test_population_accounting_holds_through_a_year_of_demography(make_city):
    """Births, deaths and migration applied once per step keep the population identity
    (checked by the model every step) and leave no pending change behind."""
    model = make_city("emerging", seed=4)
    flows = {"births": 0, "deaths": 0, "immigrants": 0, "emigrants": 0}
    start = len(model.citizens)
    for _ in range(12):
        model.step()
        for name in flows:
            flows[name] += model.flows[name]
        assert model.citizens.gone() is None
    assert all(flows.values())
    expected = start + flows["births"] - flows["deaths"] + flows["immigrants"]
    assert len(model.citizens) == expected - flows["emigrants"]
    assert len(np.unique(model.citizens.uid)) == len(model.citizens)


def test_residents_counted_once_follow_the_citizens_who_move(make_city):
    """Inside residents_counted the count is made once, and a move (choose_residence)
    makes it count again: it always equals the residents by home."""
    model = make_city("mature", seed=2)
    model.run(0.5)
    c = model.citizens
    with c.residents_counted():
        first = residents_per_district(model)
        assert residents_per_district(model) is first  # counted once
        model.params.citizens.moving_rate = 50.0  # many movers this step
        choose_residence(model)
        after = residents_per_district(model)
        assert after is not first
        np.testing.assert_array_equal(after, np.bincount(c.home, minlength=model.districts.n))
        assert not np.array_equal(after, first)


def _random_rows(population: type[Population], n: int, rng: np.random.Generator) -> dict:
    rows = {}
    for name, (dtype, shape) in population.COLUMNS.items():
        values = rng.normal(0.0, 50.0, (n, *shape))
        rows[name] = (values > 0) if dtype is np.bool_ else values.astype(dtype)
    return rows


class _CopyingColumns:
    """The columns as the copying commit made them: a new array of the rows that stay,
    concatenated with the arrivals that stay."""

    def __init__(self, population: Population):
        self.columns = {name: getattr(population, name).copy() for name in population.COLUMNS}

    def apply(self, keep: np.ndarray | None, arrivals: list[dict], arrivals_gone=None) -> None:
        for name, column in self.columns.items():
            kept = column if keep is None else column[keep]
            if arrivals:
                new = np.concatenate([block[name] for block in arrivals])
                new = new if arrivals_gone is None else new[~arrivals_gone]
                kept = np.concatenate([kept, new.astype(column.dtype)])
            self.columns[name] = kept


@pytest.mark.parametrize("kind", [Citizens, Firms])
def test_in_place_commits_give_the_columns_the_copying_commit_gave(kind):
    """Random departures, arrivals, keep and append, with columns assigned new arrays (one
    a view of another column) or changed in place between the commits, past the buffers'
    spare rows and back: after each change every column is the copying one, in its
    declared type, and a column read before a commit is read-only after it."""
    rng = np.random.default_rng(7)
    p = kind()
    p.append(**_random_rows(kind, 40, rng))
    ref = _CopyingColumns(p)
    float_names = [n for n, (dt, shape) in kind.COLUMNS.items() if dt is np.float64 and not shape]
    grew = 0
    for step in range(120):
        n = len(p)
        buffer = p._buffers["uid"]
        # Rules change columns in place or assign them new arrays.
        a, b = rng.choice(float_names, 2, replace=False)
        changed = rng.random(n) < 0.3
        getattr(p, a)[changed] += 1.0
        setattr(p, b, getattr(p, b) * 2.0 + 1.0)
        ref.columns[a][changed] += 1.0
        ref.columns[b] = ref.columns[b] * 2.0 + 1.0
        if step % 7 == 0:  # a column assigned a view of another one's buffer
            setattr(p, b, getattr(p, a)[:])
            ref.columns[b] = ref.columns[a].copy()
        old_view = getattr(p, a)
        # A phase of departures and arrivals, some of them leaving again (a surge of
        # arrivals now and then, a mass departure later, to grow and shrink the buffers).
        many = step % 30 == 10
        gone = rng.random(n) < (0.6 if step % 30 == 20 else 0.05)
        blocks = [_random_rows(kind, int(rng.integers(0, 400 if many else 6)), rng)
                  for _ in range(int(rng.integers(0, 3)))]  # fmt: skip
        p.mark_gone(gone)
        for block in blocks:
            p.stage(**block)
        staged = sum(len(block["uid"]) for block in blocks)
        arrivals_gone = rng.random(staged) < 0.3 if staged and step % 2 else None
        if arrivals_gone is not None:
            p.mark_gone(np.zeros(n, dtype=bool), staged=arrivals_gone)
        expected_count = (
            n - gone.sum() + staged - (0 if arrivals_gone is None else arrivals_gone.sum())
        )
        assert p.count() == expected_count
        p.commit()
        ref.apply(~gone, [{k: v.astype(kind.COLUMNS[k][0]) for k, v in b.items()} for b in blocks],
                  arrivals_gone)  # fmt: skip
        if step % 5 == 0:
            keep = rng.random(len(p)) < 0.9
            remap = p.keep(keep)
            ref.apply(keep, [])
            assert remap.tolist() == np.where(keep, np.cumsum(keep) - 1, -1).tolist()
        if step % 9 == 0:
            rows = _random_rows(kind, int(rng.integers(0, 30)), rng)
            p.append(**rows)
            ref.apply(None, [rows])
        assert len(p) == p.count() == len(ref.columns["uid"])
        for name, (dtype, _) in kind.COLUMNS.items():
            column = getattr(p, name)
            assert column.dtype == dtype
            np.testing.assert_array_equal(column, ref.columns[name], err_msg=name)
        with pytest.raises(ValueError, match="read-only"):
            old_view[:1] = 0.0
        grew += p._buffers["uid"] is not buffer
    assert grew >= 3  # the spare rows ran out, and the buffers were made anew


def test_a_pickled_or_copied_population_holds_its_rows_only_and_its_own_buffers():
    rng = np.random.default_rng(3)
    c = Citizens()
    c.append(**_random_rows(Citizens, 1000, rng))
    c.mark_gone(rng.random(1000) < 0.5)
    c.commit()  # ~500 rows in buffers of ~1,300
    data = pickle.dumps(c)
    assert len(data) < 600 * 130  # ~126 bytes a row
    for other in (pickle.loads(data), copy.deepcopy(c), copy.copy(c)):
        for name in c.COLUMNS:
            np.testing.assert_array_equal(getattr(other, name), getattr(c, name))
        before = c.age.copy()
        other.mark_gone(np.arange(len(other)) < 10)
        other.stage(**_random_rows(Citizens, 3, rng))
        other.commit()
        np.testing.assert_array_equal(c.age, before)
        assert len(other) == len(c) - 7 and c.count() == len(c)


def test_rows_of_another_shape_are_refused():
    c = _citizens(3)
    rows = _rows([7, 8], 1.0)
    rows["satisfaction"] = rows["satisfaction"][:1]
    with pytest.raises(ValueError, match="satisfaction"):
        c.stage(**rows)
    c.age = np.zeros(4)
    with pytest.raises(ValueError, match="'age' has shape"):
        c.append(**_rows([7], 1.0))


# --- the metric store and its record choices -------------------------------------------


def test_yearly_recording_keeps_the_same_values_as_recording_every_step(make_city):
    """Recording changes which steps are kept, never the run: the yearly rows are the
    every-step rows at those steps, and the last step of a run is always kept."""
    every = make_city("mature", seed=3)
    every.run(1.5)
    yearly = make_city("mature", seed=3, record="yearly")
    yearly.run(1.5)
    frame = yearly.metrics_frame()
    assert frame["step"].tolist() == [0, 12, 18]
    full = every.metrics_frame()
    pd.testing.assert_frame_equal(
        full[full["step"].isin(frame["step"])].reset_index(drop=True), frame, check_exact=True
    )


def test_only_recorded_steps_compute_the_metrics(registry, make_city):
    calls = []

    @metric("calls")
    def counted_calls(model) -> float:
        """How often this reporter ran (a test metric)."""
        calls.append(model.steps)
        return float(len(calls))

    model = make_city("mature", seed=1, record=6)
    model.run(1)
    assert calls == [0, 6, 12]
    assert model.metrics_frame()["counted_calls"].tolist() == [1.0, 2.0, 3.0]


def test_a_bad_record_choice_is_refused_with_the_allowed_values(make_city):
    with pytest.raises(ParameterError, match="step, yearly or a positive number"):
        make_city("mature", record="weekly")
    with pytest.raises(ParameterError, match="got 0"):
        make_city("mature", record=0)


def test_the_store_is_a_mesa_datacollector(mature_one_year):
    collector = mature_one_year.datacollector
    assert isinstance(collector, mesa.DataCollector)
    frame = collector.get_model_vars_dataframe()
    assert len(frame) == 13 and list(frame.columns) == list(collector.model_vars)
    assert collector._collection_steps == list(range(13))
    np.testing.assert_array_equal(collector.model_vars["gdp"], frame["gdp"].to_numpy())


def test_a_python_initiative_gets_its_stage_metric(tmp_path):
    spec = tmp_path / "green_corridors.toml"
    spec.write_text(
        'name = "green_corridors"\ntitle = "Green corridors"\n'
        'key_issue = "environmental_pollution"\nsource = "a test"\ndescription = "Greening."\n'
        'target_metric = "pollution"\ndirection = "down"\ncapital_cost = 0.03\n'
        'operating_cost = 0.005\nbuild_years = 1.0\nadoption = "operability"\n'
    )
    package = tmp_path / "green.toml"
    package.write_text(
        'title = "Green"\nsource = "a test"\ndescription = "One Python initiative."\n'
        f'[initiatives."{spec.as_posix()}"]\nfinancing = "government"\n'
        'class = "smartcity.policies.initiatives:Initiative"\n'
    )
    model = CityModel("mature", seed=1, policy=str(package), allow_code=True,
                      citizens__count=600)  # fmt: skip
    model.run(2)
    stages = model.metrics_frame()["stage_green_corridors"]
    assert stages.iloc[0] == 0.0 and stages.iloc[-1] >= 1.0
    assert "stage_green_corridors" not in METRICS


# --- plug-ins: a user module's metric and analyzer -------------------------------------

USER_MODULE = '''
import pandas as pd

from smartcity.simulation.model.analyzers import Analyzer, analyzer
from smartcity.simulation.model.metrics import metric


@metric("share", 0.0, 1.0)
def telehealth_use(model) -> float:
    """Share of citizens using telehealth."""
    return float(model.citizens.adopted[:, 1].mean())


@analyzer("jobless_count")
class JoblessCount(Analyzer):
    def start(self, model):
        self.rows = []

    def record(self, model):
        self.rows.append({"step": model.steps, "jobless": int((model.citizens.employer < 0).sum())})

    def finish(self, model):
        self.rows.append({"step": -1, "jobless": -1})

    def tables(self):
        return {"jobless": pd.DataFrame(self.rows)}
'''


@pytest.fixture
def registry():
    """Restore the metric and analyzer registries after a test that adds to them."""
    metrics, analyzers = dict(METRICS), dict(ANALYZERS)
    yield
    METRICS.clear()
    METRICS.update(metrics)
    ANALYZERS.clear()
    ANALYZERS.update(analyzers)


def test_a_user_module_adds_a_metric_and_an_analyzer_to_a_run(registry, tmp_path, monkeypatch):
    (tmp_path / "user_plugin_mod.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.delitem(sys.modules, "user_plugin_mod", raising=False)
    out = tmp_path / "run"
    argv = ["run", "--preset", "mature", "--years", "1", "--set", "citizens.count=800",
            "--plugin", "user_plugin_mod", "--allow-code", "--analyzer", "jobless_count",
            "--analyzer", "districts", "--record", "6", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert metrics["step"].tolist() == [0, 6, 12]
    assert metrics["telehealth_use"].between(0, 1).all()
    jobless = pd.read_parquet(out / "jobless.parquet")
    assert jobless["step"].tolist() == [0, 6, 12, -1]
    assert (jobless["jobless"].iloc[:3] > 0).all()
    districts = pd.read_parquet(out / "districts.parquet")
    assert sorted(districts["step"].unique()) == [0, 6, 12]
    per_step = districts.groupby("step")["residents"].sum()
    assert (per_step.to_numpy() == metrics["population"].to_numpy()).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["plugins"] == ["user_plugin_mod"]
    assert manifest["analyzers"] == ["jobless_count", "districts"]


def test_a_plugin_without_allow_code_is_refused_and_nothing_is_written(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", "--years", "1", "--plugin", "json", "--out", str(out)]
    assert main(argv) == 2
    assert "--allow-code" in capsys.readouterr().err
    assert not out.exists()


def _sample(seed: int, sample_seed: int | None = None) -> pd.DataFrame:
    model = CityModel("emerging", seed=seed, citizens__count=1500, record="yearly",
                      analyzers=[AgentSample(share=0.05, seed=sample_seed)])  # fmt: skip
    model.run(2)
    return model.analyzers[0].tables()


def test_the_per_agent_sample_is_reproducible_with_the_seed():
    """The same seed gives the same panel; the sample follows the same citizens from year
    to year; another sample seed picks other citizens of the same run."""
    first, again = _sample(5), _sample(5)
    for name in ("citizens_sample", "firms_sample"):
        pd.testing.assert_frame_equal(first[name], again[name], check_exact=True)
    citizens = first["citizens_sample"]
    assert citizens["step"].unique().tolist() == [0, 12, 24]
    by_year = [set(rows["uid"]) for _, rows in citizens.groupby("step")]
    assert len(by_year[0]) > 40 and len(by_year[0] & by_year[1]) > 0.8 * len(by_year[0])
    firms = first["firms_sample"]
    assert firms.groupby("step").size().tolist() == [
        n for n in firms.groupby("step")["uid"].nunique()
    ]
    other = _sample(5, sample_seed=99)["citizens_sample"]
    assert set(other["uid"]) != set(citizens["uid"])


def _every_step(*args, record=None, **kwargs):
    """run_city computing every step whatever ``record`` asks (the engine before)."""
    return run_city(*args, **kwargs)


def test_a_sweep_computes_only_the_rows_it_keeps_and_stores_the_same_values(tmp_path):
    task = RunTask("emerging", "baseline", 0, 1, 4, years=1, keep_every=6,
                   overrides={"citizens.count": 600})  # fmt: skip
    fast = execute_run(task)
    pd.testing.assert_frame_equal(fast, execute_run(task, run_fn=_every_step), check_exact=True)
    assert fast["step"].tolist() == [0, 6, 12]
    spec = tmp_path / "spec.toml"
    spec.write_text('presets = ["mature"]\nroot_seed = 2\nyears = 2\n'
                    '[overrides]\n"citizens.count" = 600\n')  # fmt: skip
    out = tmp_path / "sweep"
    assert main(["sweep", str(spec), "--out", str(out), "--record", "yearly"]) == 0
    assert load_results(out)["step"].tolist() == [0, 12, 24]


HEAVY_MODULES = ("matplotlib", "scipy.stats", "SALib", "optuna", "dask", "distributed", "solara")


def test_smartcity_run_imports_none_of_the_analysis_and_view_libraries(tmp_path):
    """`smartcity run` (and so a sweep worker's start) loads only what a run needs."""
    code = (
        "import sys\nfrom smartcity.cli import main\n"
        f"assert main(['run', '--years', '1', '--set', 'citizens.count=300', '--quiet', "
        f"'--out', {str(tmp_path / 'run')!r}]) == 0\n"
        f"print([m for m in {HEAVY_MODULES!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_recorded_metrics_equal_each_reporter_called_alone(mature_one_year):
    """The shared aggregates of a recording give every metric the value its reporter gives
    on its own (each computing its own masks and counts) in the same state."""
    model = mature_one_year
    last = model.metrics_frame().iloc[-1]
    with model.firms.employers_fixed():
        for spec in model.datacollector.specs:
            assert spec.reporter(model) == last[spec.name], spec.name


def test_a_last_year_mean_sensitivity_study_refuses_sparse_recording(tmp_path, capsys):
    """A last-year mean needs every step of the last year: --record yearly is refused with
    one line before any run, instead of silently averaging one row."""
    spec = tmp_path / "sa.toml"
    spec.write_text(
        'presets = ["mature"]\nroot_seed = 5\nyears = 1\n[overrides]\n"citizens.count" = 100\n'
        '[sensitivity]\nsamples = 3\nmetrics = ["gdp_per_capita"]\n'
        'statistic = "last_year_mean"\n[sensitivity.bounds]\n'
        '"citizens.digital_literacy_mean" = [0.2, 0.8]\n"citizens.trust_mean" = [0.3, 0.7]\n'
    )
    out = tmp_path / "out"
    argv = ["sensitivity", str(spec), "--method", "morris", "--out", str(out), "--record", "yearly"]
    assert main(argv) == 2
    assert "--record step" in capsys.readouterr().err
    assert not out.exists()


def test_adoption_metrics_from_the_one_pass_counts_equal_their_definitions(mature_one_year):
    """digital_adoption and digital_divide, counted in one pass by age group, are the mean
    of adopted over the adults, and that of adults under 40 minus that of the elderly."""
    model = mature_one_year
    c = model.citizens
    adults = c.age >= 18
    young, elderly = adults & (c.age < 40), c.age >= model.params.citizens.retirement_age
    last = model.metrics_frame().iloc[-1]
    assert last["digital_adoption"] == c.adopted[adults].mean()
    divide = c.adopted[young].mean() - c.adopted[elderly].mean()
    assert last["digital_divide"] == pytest.approx(divide, rel=1e-12)
    assert 0 < last["digital_adoption"] < 1 and last["digital_divide"] > 0


def _gumbel_weights() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(3000, 16)) * 3
    ties = rng.integers(0, 3, size=(2000, 16)) * 1e18  # w + g rounds to w: ties
    blocked = rng.normal(size=(2000, 5))
    blocked[rng.random(blocked.shape) < 0.3] = -np.inf
    blocked[:20] = -np.inf  # nothing to choose: the first column, as np.argmax
    odd = rng.normal(size=(500, 8))
    odd[rng.random(odd.shape) < 0.05] = np.nan
    odd[rng.random(odd.shape) < 0.05] = np.inf
    return [spread, ties, blocked, odd, rng.normal(size=(40, 16)), np.zeros((0, 5))]


@pytest.mark.parametrize("weights", _gumbel_weights(), ids=lambda w: str(w.shape))
def test_the_gumbel_chooser_draws_and_chooses_as_numpy(weights):
    """kernels.choose_gumbel (and population.choose_gumbel, kernel or numpy by size) picks
    np.argmax(w + rng.gumbel(size=w.shape), axis=1) for the same seed, ties to the first
    largest, -inf, inf and NaN weights included, and leaves the generator in the same
    state: a numba or numpy upgrade that changes the draws fails here."""
    for chooser in (kernels.choose_gumbel, choose_gumbel):
        ours, numpys = np.random.default_rng(7), np.random.default_rng(7)
        chosen = chooser(weights, ours)
        expected = np.argmax(weights + numpys.gumbel(size=weights.shape), axis=1)
        assert chosen.dtype == expected.dtype
        np.testing.assert_array_equal(chosen, expected)
        assert ours.bit_generator.state == numpys.bit_generator.state


def test_adoption_bounds_of_the_exponential_decide_as_numpys_exponential():
    """kernels.adopt_or_drop with the rule's numpy step for its undecided entries gives
    the choices of numpy's 1 - np.exp(x) for every entry, draws just below, at and just
    above that threshold included (those must be left to numpy's exponential)."""
    rng = np.random.default_rng(3)
    n, services, districts = 20000, 4, 6
    home = rng.integers(0, districts, n).astype(np.int32)
    age = rng.uniform(0.0, 90.0, n)
    literacy, privacy = rng.random(n), rng.random(n)
    adopted = rng.random((n, services)) < 0.4
    rate, availability = rng.random((districts, services)) * 3, rng.random((districts, services))
    unprotected, steps, drop = 0.6, 1, 0.05  # a yearly step: wide bands, many undecided
    ready = literacy * (1.0 - privacy * unprotected)
    exponent = -(rate[home] * ready[:, None] * availability[home]) / steps
    threshold = 1.0 - np.exp(exponent)
    draw = rng.random((n, services))
    edge = rng.integers(0, 3, n)  # just below, at, just above the threshold
    draw[:, 0] = np.select(
        [edge == 0, edge == 1],
        [np.nextafter(threshold[:, 0], -1), threshold[:, 0]],
        np.nextafter(threshold[:, 0], 2),
    )
    expected = np.where(adopted, ~(draw < drop), (age >= 18)[:, None] & (draw < threshold))
    chosen, undecided, x = kernels.adopt_or_drop(
        home, age, literacy, privacy, adopted, rate, availability, unprotected, steps, draw, drop
    )
    np.testing.assert_array_equal(x, exponent.reshape(-1)[undecided])
    chosen.reshape(-1)[undecided] = draw.reshape(-1)[undecided] < 1.0 - np.exp(x)
    np.testing.assert_array_equal(chosen, expected)
    edge_rows = (age >= 18) & ~adopted[:, 0]
    assert set(np.flatnonzero(edge_rows) * services) <= set(undecided)


def test_deaths_decided_by_bounds_are_those_of_numpys_exponential():
    """kernels.die with the rule's numpy step for its undecided citizens gives numpy's draw
    < 1 - np.exp(x) for every citizen, draws just below, at and just above it included."""
    rng = np.random.default_rng(4)
    n, base, steps = 50000, 0.02, 1
    growth, health = np.exp(0.09 * rng.uniform(0.0, 100.0, n)), rng.random(n)
    exponent = -(base * growth * (1.5 - 0.5 * health)) / steps
    threshold = 1.0 - np.exp(exponent)
    draw = rng.random(n)
    edge = rng.integers(0, 4, n)  # just below, at, just above the threshold, or random
    draw = np.select(
        [edge == 0, edge == 1, edge == 2],
        [np.nextafter(threshold, -1), threshold, np.nextafter(threshold, 2)],
        draw,
    )
    dead, undecided, x = kernels.die(growth, health, base, steps, draw)
    assert set(np.flatnonzero(edge < 3)) <= set(undecided)
    np.testing.assert_array_equal(x, exponent[undecided])
    dead[undecided] = draw[undecided] < 1.0 - np.exp(x)
    np.testing.assert_array_equal(dead, draw < threshold)


@pytest.mark.parametrize("terms", range(1, 8))
def test_weighted_rows_sum_as_numpys_einsum(terms):
    """The kernels' weighted sums of a citizen's need levels equal numpy's einsum bit for
    bit (the rules of satisfaction, trust and emigration were einsum's), from the first
    column and from the second."""
    rng = np.random.default_rng(terms)
    values = rng.random((20000, terms + 1)) * rng.choice([1e-3, 1.0, 1e3], (20000, terms + 1))
    weights = rng.random(terms)
    for first in (0, 1):
        expected = np.einsum("ij,j->i", values[:, first : first + terms], weights)
        np.testing.assert_array_equal(
            kernels.weighted_rows(values, tuple(weights.tolist()), first), expected
        )


def test_emigration_decided_by_bounds_is_that_of_numpys_rule():
    """kernels.emigrate with the rule's numpy step for its undecided citizens gives the
    numpy rule's adults & (draw < 1 - np.exp(-rate / steps)) for every citizen, draws just
    below, at and just above the threshold included."""
    rng = np.random.default_rng(5)
    n, base, retirement, steps = 50000, 0.9, 65.0, 1
    satisfaction, age = rng.random((n, 5)), rng.uniform(0.0, 90.0, n)
    employer = rng.integers(-1, 3, n).astype(np.int32)
    weights = np.array([0.3, 0.25, 0.15, 0.15, 0.15])
    unemployed = (age >= 18) & (age < retirement) & (employer < 0)
    rate = base * (0.5 + 1.5 * unemployed) * (1.5 - np.einsum("ij,j->i", satisfaction, weights))
    threshold = 1.0 - np.exp(-rate / steps)
    edge = rng.integers(0, 4, n)  # just below, at, just above the threshold, or random
    draw = np.select(
        [edge == 0, edge == 1, edge == 2],
        [np.nextafter(threshold, -1), threshold, np.nextafter(threshold, 2)],
        rng.random(n),
    )
    draw[rng.random(n) < 0.01] = np.inf  # rows already leaving
    leaving, undecided, x = kernels.emigrate(
        satisfaction, age, employer, draw, tuple(weights.tolist()), base, retirement, steps
    )
    assert set(np.flatnonzero((edge < 3) & (age >= 18) & np.isfinite(draw))) <= set(undecided)
    leaving[undecided] = draw[undecided] < 1.0 - np.exp(x)
    np.testing.assert_array_equal(leaving, (age >= 18) & (draw < threshold))


@pytest.mark.parametrize(("n", "groups"), [(0, 1), (7, 1), (3000, 3), (13000, 300), (2000, 5000)])
def test_ranks_within_groups_are_those_of_a_lexsort(n, groups):
    """Layoffs, hiring and free dwellings go by rank within a group; the kernel's ranks are
    those of np.lexsort((-priority, groups)): ties in the elements' order, NaN last."""
    rng = np.random.default_rng(n)
    group = rng.integers(0, groups, n).astype(np.int32)
    priority = np.round(rng.random(n), 2)  # many ties
    priority[rng.random(n) < 0.05] = np.nan
    priority[: min(n, 3)] = [-0.0, 0.0, np.inf][: min(n, 3)]
    order = np.lexsort((-priority, group))
    expected = np.empty(n, dtype=np.int64)
    for g in np.unique(group):
        members = order[group[order] == g]
        expected[members] = np.arange(len(members))
    np.testing.assert_array_equal(rank_within_groups(group, priority), expected)


def test_a_share_of_true_entries_is_numpys_mean_bit_for_bit():
    """Rules and metrics take shares of masks as counts; each equals np.mean of the mask,
    for whole arrays, strided columns and lengths around numpy's pairwise blocks."""
    rng = np.random.default_rng(6)
    for n in (1, 7, 8, 9, 127, 128, 129, 4097, 100_001):
        mask = rng.random((n, 4)) < rng.random()
        for part in (mask, mask[:, 2], mask[:, 0] & mask[:, 1]):
            assert share(part) == part.mean()
    assert share(np.zeros(0, dtype=bool)) == 0.0


@pytest.mark.parametrize("transit_open", [True, False])
def test_commuters_pick_modes_as_numpys_logit_of_generalized_cost(make_city, transit_open):
    """The mode-choice kernel gives each chooser the mode, and leaves the generator in the
    state, of the numpy rule: argmax of -sensitivity x (expected minutes + money / value of
    time + constant) + a Gumbel draw, micro-mobility for its users only, transit closed to
    the riders turned back."""
    model = make_city("mature", seed=7)
    model.run(0.5)
    c, p, t = model.citizens, model.params.transport, model.transit
    work = work_district(model)
    choosers = np.flatnonzero(work >= 0)
    home, where = c.home[choosers], work[choosers]
    time_value = (
        p.value_of_time_share
        * np.maximum(c.income[choosers], 0.05 * model.wage_index)
        / MINUTES_WORKED_PER_MONTH
    )
    constants = [0.0, p.constant_transit, p.constant_micro, p.constant_cycle, p.constant_walk]
    cost = t.expected[:, home, where].T + t.money[:, home, where].T / time_value[:, None]
    cost += np.array(constants)[None, :]
    cost[~c.adopted[choosers, DIGITAL_SERVICES.index("mobility")], MICRO] = np.inf
    if not transit_open:
        cost[:, TRANSIT] = np.inf
    state = model.rng.bit_generator.state
    expected = np.argmax(-p.mode_sensitivity * cost + model.rng.gumbel(size=cost.shape), axis=1)
    after = model.rng.bit_generator.state
    model.rng.bit_generator.state = state
    chosen = pick_modes(model, choosers, where, transit_open)
    np.testing.assert_array_equal(chosen, expected)
    assert model.rng.bit_generator.state == after
    assert transit_open or not (chosen == TRANSIT).any()
