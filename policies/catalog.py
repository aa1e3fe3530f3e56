"""The policy catalogue as text: every initiative, financing model, infrastructure kind and
development path, with what it does, where it comes from and its parameters.

``smartcity policies`` prints it; docs/policies.md is generated from it (a test checks it is
current), so the documentation cannot drift from the TOML files.
"""

from __future__ import annotations

from smartcity.policies.financing import FINANCING_MODELS
from smartcity.policies.initiatives import initiative_names, load_initiative
from smartcity.policies.new_infrastructure import KINDS
from smartcity.policies.packages import load_package, package_names
from smartcity.simulation.world.levers import lever_specs
from smartcity.simulation.world.vocabulary import STAGES


def _table(values: dict[str, float], signed: bool = True) -> str:
    fmt = "+g" if signed else "g"
    return ", ".join(f"`{k}` {v:{fmt}}" for k, v in values.items()) or "none"


def _conditions(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "none"


def initiatives_markdown() -> list[str]:
    """One section per shipped initiative."""
    lines = ["## Digital initiatives", ""]
    lines += [
        "Each initiative is a TOML file in `policies/initiatives/`. Its effect each month is",
        "its effects at full strength times strength = stage factor (function 0.3,",
        "performance 0.7, effectiveness 1) x operability x (0.4 + 0.6 adoption) x financing",
        "uptake x coordination x scale; operability = readiness (prerequisites met) x",
        "financing continuity x share built. No term scores how well it suits the city: its",
        "levers act on the agents and stocks the rules read, so it does more where the city",
        "has more of what it acts on (`acts on` names those conditions for reports; see",
        "docs/path_fit.md). Levers saturate toward their limits (docs/effects.md), so a",
        "larger dose never gives a proportionally larger effect. A greenfield initiative costs",
        "1 + legacy burden times its capital and advances 1 - 0.5 legacy burden times as",
        "fast. Stages: " + " -> ".join(STAGES[1:]) + ".",
        "",
    ]
    for name in initiative_names():
        spec = load_initiative(name)
        lines += [
            f"### `{name}`: {spec.title}",
            "",
            " ".join(spec.description.split()),
            "",
            f"- key issue: {spec.key_issue.replace('_', ' ')}; source: {spec.source}",
            f"- meant to move `{spec.target_metric}` {spec.direction}",
            f"- cost: capital {spec.capital_cost:g} k/resident over {spec.build_years:g} years, "
            f"operating {spec.operating_cost:g} k/resident-year",
            f"- adoption signal: `{spec.adoption}`",
            f"- prerequisites: capabilities {_table(spec.prerequisites, signed=False)}; "
            f"district stocks {_table(spec.infrastructure, signed=False)}",
            f"- effects at full strength: {_table(spec.effects)}",
            f"- acts on (city conditions, for reports): {_conditions(spec.acts_on)}"
            + ("; greenfield (slowed and made dearer by legacy)" if spec.greenfield else ""),
        ]
        if spec.district_growth:
            lines.append(
                f"- district stocks grown ({spec.scope}), per year toward 1: "
                f"{_table(spec.district_growth)}"
            )
        lines.append("")
    return lines


def financing_markdown() -> list[str]:
    """The four financing models as a table."""
    lines = [
        "## Financing models",
        "",
        "| model | public capital | public operating | fee recovery | public fee share "
        "| yearly risk | uptake | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in FINANCING_MODELS.values():
        lines.append(
            f"| `{m.name}` | {m.public_capital_share:g} | {m.public_operating_share:g} | "
            f"{m.fee_recovery:g} | {m.public_revenue_share:g} | {m.yearly_risk:g} | {m.uptake:g} "
            f"| {m.source} |"
        )
    return [*lines, ""]


def infrastructure_markdown() -> list[str]:
    """The new-infrastructure kinds with their demand and effects."""
    lines = [
        "## New infrastructure",
        "",
        "Investment (k per resident-year, `[new_infrastructure]` in a package) builds capacity;",
        "demand is the matching new consumption; what is served = min(capacity, demand).",
        "Urban rail builds physical capacity instead (its effect column), and serves",
        "capacity x min(load factor, 1): new seats where nobody travels stay empty.",
        "",
        "| kind | demand | effects per unit served | district growth | source |",
        "|---|---|---|---|---|",
    ]
    for kind in KINDS.values():
        demand = " ".join((kind.demand.__doc__ or "").split())
        effects = " ".join(kind.expand.__doc__.split()) if kind.expand else _table(kind.effects)
        lines.append(
            f"| `{kind.name}` | {demand} | {effects} | "
            f"{_table(kind.district_growth)} | {kind.source} |"
        )
    return [*lines, ""]


def packages_markdown() -> list[str]:
    """One section per shipped development path."""
    lines = ["## Development paths (policy packages)", ""]
    for name in package_names():
        pkg = load_package(name)
        plans = ", ".join(
            f"`{p.spec.name}` ({p.financing.name}"
            + (f", from year {p.start_year:g}" if p.start_year else "")
            + ")"
            for p in pkg.initiatives
        )
        lines += [
            f"### `{name}`: {pkg.title}",
            "",
            " ".join(pkg.description.split()),
            "",
            f"- source: {pkg.source}; home city type: {pkg.home or 'none (a control)'}; "
            f"unified data platform: {'yes' if pkg.unified_platform else 'no'}",
            f"- initiatives: {plans or 'none'}",
            f"- new infrastructure (k/resident-year): {_table(pkg.new_infrastructure, False)}",
            f"- sector priorities (added relative entry): {_table(pkg.sectors, False)}",
            f"- parameters set: {_table(pkg.parameters, False)}",
            "",
        ]
    return lines


def policies_markdown() -> str:
    """docs/policies.md."""
    lines = [
        "# Policies: initiatives, financing, new infrastructure, development paths",
        "",
        "Generated by `smartcity policies --markdown`; do not edit by hand.",
        "",
        *initiatives_markdown(),
        *financing_markdown(),
        *infrastructure_markdown(),
        *packages_markdown(),
    ]
    return "\n".join(lines)


# Output multipliers of public investment found in the literature, per unit of spending:
# about 0.4 within a year and 1.5 after four years in advanced economies (IMF, World
# Economic Outlook, October 2014, chapter 3), 0.6-1 for government purchases in general
# (V. Ramey, Journal of Economic Perspectives 33(2), 2019).
PUBLISHED_MULTIPLIERS = (0.5, 2.5)
HIGH_MULTIPLIER = 5.0  # a path above this must name the mechanism that makes it


def effects_markdown(multipliers: list[dict], measure: dict) -> str:
    """docs/effects.md: the initiatives' coefficients with range and source, the levers'
    limits, the new-infrastructure coefficients and the measured returns on public money
    (``multipliers``: rows of docs/effects_multipliers.csv; ``measure``: how they were run).
    """
    lines = [
        "# Effect sizes: coefficients, their ranges and sources, and returns on public money",
        "",
        "Generated by `python tests/test_effects_doc.py` from the initiative TOMLs",
        "(`policies/initiatives/*.toml`, their `[evidence]` tables), the lever metadata",
        "(`simulation/world/levers.py`) and the measured multipliers",
        "(`docs/effects_multipliers.csv`, re-run with `--measure`); a test checks it is current.",
        "",
        "An initiative adds coefficient x strength to a lever (strength: its stage level,",
        "operability, adoption, financing uptake, coordination and scale; docs/ODD.md 7.7) or",
        "grows a district stock at coefficient x strength a year toward 1. Every lever then",
        "saturates toward its limit, limit x (1 - exp(-sum / limit)), so no dose gives a",
        "proportional effect. The range is what a robustness analysis varies; 'assumption'",
        "says that neither source document nor a published estimate gives the size.",
        "",
        "## Initiative coefficients",
        "",
        "| initiative | target | coefficient | range | source |",
        "|---|---|---|---|---|",
    ]
    for name in initiative_names():
        spec = load_initiative(name)
        for key, value in {**spec.effects, **spec.district_growth}.items():
            evidence = spec.evidence_for(key)
            kind = "lever" if key in spec.effects else "stock growth, 1/year"
            low, high = evidence.range if evidence else (value, value)
            source = evidence.source if evidence else "not given"
            lines.append(
                f"| `{name}` | `{key}` ({kind}) | {value:g} | {low:g}-{high:g} | {source} |"
            )
    lines += [
        "",
        "## Levers and their limits",
        "",
        "Each lever approaches its limit however much policy adds (diminishing returns);",
        "the limit is the parameter `levers.NAME`, and the robustness study varies it over",
        "its plausible range (docs/robustness/paths.toml).",
        "",
        "| lever | unit | limit | plausible | evidence | meaning | read by |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, spec in lever_specs().items():
        items = f" (per {', '.join(spec.items)})" if spec.items else ""
        low, high = spec.plausible
        lines.append(
            f"| `{name}` | {spec.unit} | {spec.limit:g} | {low:g}-{high:g} | {spec.evidence} "
            f"| {spec.meaning}{items} | {spec.read_by} |"
        )
    lines += [
        "",
        "## New infrastructure coefficients",
        "",
        "Per unit of demand served (policies/new_infrastructure.py); the papers name the",
        "mechanisms, not these sizes: every one is an assumption, range 0.5-1.5 times it.",
        "",
        "| kind | target | coefficient | source of the mechanism |",
        "|---|---|---|---|",
    ]
    for kind in KINDS.values():
        for key, value in {**kind.effects, **kind.district_growth}.items():
            lines.append(f"| `{kind.name}` | `{key}` | {value:g} | {kind.source} |")
    low, high = PUBLISHED_MULTIPLIERS
    lines += [
        "",
        "## Returns on public money",
        "",
        f"Each development path on its home preset against the baseline of the same seed "
        f"({measure['replications']} paired replications, {measure['citizens']:,} citizens, "
        f"{measure['years']} years, each package on its own budget): the GDP gained over "
        f"{measure['years']} years per unit of extra cumulative public spending. Published "
        f"output multipliers of public investment are about {low:g}-{high:g} per unit (IMF, "
        "World Economic Outlook, October 2014, chapter 3: +0.4 in the year, +1.5 after four "
        "years in advanced economies; V. Ramey, Journal of Economic Perspectives, 2019: "
        "0.6-1 for government purchases), so twenty years of a durable stock allow a few "
        "units at most.",
        "",
        "| package | preset | extra public spending (M) | 20-year GDP gain (M) | "
        "GDP per unit [replications] | against the published range |",
        "|---|---|---|---|---|---|",
    ]
    notes = []
    for row in multipliers:
        m = row["multiplier"]
        verdict = "within" if low <= m <= high else ("above" if m > high else "below")
        if m > HIGH_MULTIPLIER:
            verdict += f" (above {HIGH_MULTIPLIER:g}: see below)"
            notes.append(f"- `{row['package']}`: {row['note']}")
        lines.append(
            f"| `{row['package']}` | {row['preset']} | {row['extra_spending']:,.1f} | "
            f"{row['gdp_gain']:,.1f} | {m:.2f} [{row['min']:.2f}, {row['max']:.2f}] | "
            f"{verdict} |"
        )
    if notes:
        lines += ["", f"Paths above {HIGH_MULTIPLIER:g}, and the mechanism that makes it:", ""]
        lines += notes
        lines += [
            "",
            "This is a disagreement with the evidence, not a result to take at face value:",
            "the levers that carry these returns (start-up entry, digital affinity, cluster",
            "reach, talent attraction) raise output with no cost to the firms that gain, the",
            "entrants they bring find idle workers and newcomers to hire, and their sizes are",
            "assumptions. Their ranges above are what a robustness analysis must vary; the",
            "path comparisons of docs/path_fit.md inherit them. Export reach is a level (the",
            "outside demand a city wins), no longer a growth rate that compounds for 20 years.",
        ]
    return "\n".join(lines) + "\n"
