"""District processes that no single agent decides: housing construction, pollution and
public safety (white paper Table 1: urban infrastructure, environmental pollution, public
safety)."""

from __future__ import annotations

import numpy as np

from smartcity.agents.citizens import residents_per_district
from smartcity.agents.firms import POLLUTING_SECTORS, sector_mask
from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.vocabulary import per_step

# Background pollution by district kind (DISTRICT_KINDS order): dense and industrial
# districts start dirtier ("urban diseases", white paper 5.1.1).
KIND_POLLUTION = np.array([0.3, 0.25, 0.1, 0.4, 0.08])
INCIDENTS_PER_1000_YEAR = 30.0  # safety incidents per 1000 residents per year, no sensing
BASE_RESPONSE_MINUTES = 12.0


def build_housing(model: CityState) -> None:
    """Developers add dwellings where a district is over 95% full, up to what its land
    allows (housing_max); new towns have the most room (white paper 5.1.1 Path 2)."""
    d = model.districts
    full = residents_per_district(model) > 0.95 * d.housing_capacity
    rate = per_step(model, model.params.city.housing_construction_rate)
    d.housing_capacity = np.where(
        full, np.minimum(d.housing_capacity * (1 + rate), d.housing_max), d.housing_capacity
    )


def update_pollution(model: CityState) -> None:
    """Pollution relaxes toward its target (pollution_target) with a half-life of about
    3 months."""
    d = model.districts
    d.pollution += (pollution_target(model) - d.pollution) * per_step(model, 2.8)


def pollution_target(model: CityState) -> np.ndarray:
    """Pollution level a district tends to: set by its kind, car traffic on the links
    around it and polluting industry in it, lowered by environmental quality and by sensing
    (IoT x perception capability) that targets treatment (white paper Table 1).

    target = kind base x (1.3 - 0.6 environment) + (1 - emission_cut) x [0.25 min(link
    load, 2) / 2 + 0.4 polluting value-added share x (1 - 0.5 sensing)], clipped to 0-1.
    """
    d = model.districts
    f = model.firms
    dirty = sector_mask(POLLUTING_SECTORS)[f.sector]
    value = np.bincount(f.district, f.value_added, d.n)
    dirty_share = np.bincount(f.district, f.value_added * dirty, d.n) / np.maximum(value, 1e-9)
    sensing = model.government.capability("perception") * d.iot
    cut = 1.0 - model.levers.emission_cut
    target = (
        KIND_POLLUTION[d.kind] * (1.3 - 0.6 * d.environment)
        + cut * 0.25 * np.minimum(d.link_load(), 2.0) / 2.0
        + cut * 0.4 * dirty_share * (1 - 0.5 * sensing)
    )
    return np.clip(target, 0.0, 1.0)


def count_safety_incidents(model: CityState) -> None:
    """Safety incidents occur in proportion to residents, fewer where sensing gives early
    warning; response time falls with sensing and the platform (white paper Table 1,
    public safety; 6.2.3). The step's count joins the city's record of the last year's
    steps, from which the published annual rate is read (metrics.safety_incidents)."""
    d = model.districts
    gov = model.government
    sensing = gov.capability("perception") * d.iot
    rate = INCIDENTS_PER_1000_YEAR * residents_per_district(model) / 1000 * (1 - 0.5 * sensing)
    rate *= 1 - model.levers.incident_cut
    incidents = model.rng.poisson(rate / model.steps_per_year)
    model.incident_history.append((int(incidents.sum()), len(model.citizens)))
    response = BASE_RESPONSE_MINUTES * (1 - 0.4 * sensing) * (1 - 0.2 * gov.capability("platform"))
    response *= 1 - model.levers.response_cut
    weights = incidents + 1e-9
    # np.average's sum and scale, without its checks.
    model.response_minutes = float((response * weights).sum() / weights.sum())
