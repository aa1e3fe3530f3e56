"""Typed, documented model parameters: units, ranges, TOML loading and overrides.

Every parameter is a dataclass field created by :func:`param`, which records its unit,
allowed range and one-line meaning. A preset TOML file sets values per section; keyword
overrides (``CityModel(citizens__count=5000)``) and command-line ``--set
citizens.count=5000`` change them. Unknown keys, wrong types and out-of-range values raise
:class:`ParameterError` with one line naming the parameter, the value and what is allowed.
docs/parameters.md is generated from the same metadata (:func:`parameters_markdown`).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, create_model

from smartcity.simulation.world.errors import InputError, ParameterError
from smartcity.simulation.world.levers import LeverSpec, key_limits, lever_specs
from smartcity.simulation.world.schema import Schema, did_you_mean, number, validate
from smartcity.simulation.world.vocabulary import CAPABILITY_NAMES, SECTOR_NAMES


@dataclass(frozen=True)
class ParamSpec:
    """Metadata of one parameter: unit, allowed range (inclusive) or choices, meaning."""

    unit: str
    doc: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] | None = None

    def allowed(self) -> str:
        """Human-readable statement of what values are allowed, bounds as declared."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.lo is not None and self.hi is not None:
            return f"{declared(self.lo)} to {declared(self.hi)}"
        if self.lo is not None:
            return f">= {declared(self.lo)}"
        return "any value"

    def allowed_with_unit(self) -> str:
        """``allowed()`` followed by the unit, unless the unit only restates the range."""
        unit = "" if self.unit in UNITLESS else f" {self.unit}"
        return self.allowed() + unit


# Units that say nothing a range does not: "allowed: 0 to 1", not "0 to 1 0-1".
UNITLESS = ("-", "0-1", "share")


def declared(bound: float) -> str:
    """A bound as it was declared: 5_000_000 as 5000000 (not 5e+06), 0.05 as 0.05."""
    if isinstance(bound, int) or float(bound).is_integer():
        return str(int(bound))
    return repr(float(bound))


def param(
    default: Any,
    unit: str,
    doc: str,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """Declare a parameter field with its unit, range and one-line meaning."""
    spec = ParamSpec(unit=unit, doc=doc, lo=lo, hi=hi, choices=choices)
    return field(default=default, metadata={"spec": spec})


@dataclass
class SimulationParams:
    """Time resolution."""

    steps_per_year: int = param(12, "steps/year", "model steps in one year (12 = monthly)", 1, 52)


@dataclass
class CityParams:
    """The district graph (white paper 5.1 for the presets)."""

    name: str = param("city", "-", "display name of the city")
    type: str = param(
        "mature",
        "-",
        "city type of white paper 5.1 (mature or emerging): marks which packages are the "
        "city's own paths in comparisons; no rule reads it",
        choices=("mature", "emerging"),
    )
    graph_file: str = param(
        "",
        "path",
        "GraphML, GeoJSON, GeoPackage or nodes CSV file of a user city; empty = generate "
        "from counts below",
    )
    layout_seed: int = param(7, "-", "seed of the generated district layout (fixed per city)", 0)
    n_core: int = param(1, "districts", "core districts (dense centre)", 1, 20)
    n_old: int = param(5, "districts", "old districts around the core", 0, 100)
    n_new_town: int = param(2, "districts", "new towns at the edge", 0, 100)
    n_industrial: int = param(2, "districts", "industrial zones", 0, 100)
    n_suburb: int = param(3, "districts", "suburbs", 0, 100)
    radius_km: float = param(15.0, "km", "distance from the core to the outermost ring", 2, 200)
    infrastructure_level: float = param(
        0.7, "0-1", "transport quality of roads and transit, scaled by district kind", 0, 1
    )
    ict_coverage: float = param(0.6, "0-1", "5G/fibre coverage, scaled by district kind", 0, 1)
    computing_level: float = param(0.5, "0-1", "data-centre and computing capacity", 0, 1)
    iot_coverage: float = param(0.2, "0-1", "IoT sensing coverage, scaled by district kind", 0, 1)
    service_level: float = param(
        0.9, "places/resident", "public-service capacity (schools, clinics) per resident", 0.05, 3
    )
    environment_quality: float = param(0.6, "0-1", "baseline environmental quality", 0, 1)
    housing_slack: float = param(
        1.15, "dwellings/resident", "housing capacity over the initial population", 1.0, 5.0
    )
    road_capacity: float = param(
        45.0,
        "car commuters/link per 1000 residents",
        "capacity of a transport link, scaled with the initial population",
        1,
        10000,
    )
    bus_capacity: float = param(
        1.5,
        "seats/peak hour per link per 1000 residents",
        "bus seats on every link, scaled with the initial population and (0.5 + link quality)",
        0,
        10000,
    )
    rail_lines: int = param(
        3, "lines", "radial rail lines from the core to the most populous districts", 0, 50
    )
    rail_capacity: float = param(
        1.5,
        "seats/peak hour per line per 1000 residents",
        "seats a rail line offers on each of its links, scaled with the initial population",
        0,
        10000,
    )
    congestion_alpha: float = param(0.15, "-", "BPR congestion coefficient alpha", 0, 5)
    congestion_beta: float = param(4.0, "-", "BPR congestion exponent beta", 1, 10)
    core_building_room: float = param(
        0.1,
        "share of initial housing",
        "dwellings that building can still add in the core districts, over their initial "
        "housing: the land a dense, protected centre has left (white paper 5.1.1 Path 2)",
        0,
        3,
    )
    housing_construction_rate: float = param(
        0.03, "1/year", "share of capacity built per year where a district is full", 0, 0.5
    )
    legacy_burden: float = param(
        0.4,
        "0-1",
        "weight of old systems, institutions and built form: their upkeep takes a share of "
        "capability spending (government.legacy_upkeep), and greenfield digital initiatives "
        "cost more and advance slower (white paper 5.1.1: mature cities 'have a long "
        "history'; 5.1.2: an emerging city is 'less burdened by history')",
        0,
        1,
    )
    new_town_land: float = param(
        0.5,
        "0-1",
        "share of new-town land still open for development: fully built, a new town houses "
        "1 + 6 x this times its initial residents, and firms favour open land (white paper "
        "5.1.1 Path 2: new towns built as smart highlands)",
        0,
        1,
    )


@dataclass
class CitizensParams:
    """Citizens (white paper 4.1 demand advancement)."""

    count: int = param(20000, "citizens", "initial population", 50, 5_000_000)
    child_share: float = param(0.16, "share", "initial share aged under 18", 0, 0.6)
    elderly_share: float = param(0.2, "share", "initial share aged 65 and over", 0, 0.6)
    adult_age_tilt: float = param(
        0.0, "-", "adult ages: > 0 more near retirement (an aging city), < 0 younger", -1, 1
    )
    birth_rate: float = param(
        0.045, "births/person-year", "births per citizen aged 20-39 per year", 0, 0.3
    )
    mortality_base: float = param(
        5e-5, "1/year", "Gompertz death hazard at age 0 (doubles about every 8 years)", 0, 0.01
    )
    mortality_growth: float = param(0.085, "1/year of age", "Gompertz slope of the hazard", 0, 0.2)
    retirement_age: float = param(65.0, "years", "age leaving the labour force", 50, 80)
    skill_mean: float = param(0.55, "0-1", "mean human capital of adults", 0, 1)
    skill_sd: float = param(0.15, "0-1", "spread of human capital", 0, 0.5)
    skill_learning_rate: float = param(
        0.02, "1/year", "yearly skill gain of workers toward 1", 0, 0.5
    )
    digital_literacy_mean: float = param(
        0.55,
        "0-1",
        "literacy norm: mean starting literacy at ages 18-40 (older adults start lower, see "
        "digital_literacy_age_slope), the level children grow toward and the threshold below "
        "which literacy support lifts adults",
        0,
        1,
    )
    digital_literacy_age_slope: float = param(
        0.25, "per 40 years", "literacy lost per 40 years of age above 40", 0, 1
    )
    literacy_learning_rate: float = param(
        0.05, "1/year", "yearly literacy gain from using digital services", 0, 1
    )
    privacy_concern_mean: float = param(0.5, "0-1", "mean privacy concern", 0, 1)
    trust_mean: float = param(0.5, "0-1", "mean trust in government", 0, 1)
    trust_adjustment_rate: float = param(
        0.2, "1/year", "speed at which trust follows experienced satisfaction", 0, 5
    )
    pension: float = param(1.5, "k/month", "pension income of a retired citizen", 0, 20)
    consumption_share: float = param(0.8, "share", "share of net income spent locally", 0, 1)
    moving_rate: float = param(
        0.1, "1/year", "share of adults reconsidering their residence each year", 0, 1
    )
    weight_housing: float = param(2.0, "utils", "residence: weight of free housing", 0, 20)
    weight_services: float = param(1.5, "utils", "residence: weight of service access", 0, 20)
    weight_jobs: float = param(1.0, "utils", "residence: weight of job accessibility", 0, 20)
    weight_commute: float = param(1.5, "utils/hour", "residence: disutility of commute time", 0, 20)
    weight_environment: float = param(1.0, "utils", "residence: weight of clean environment", 0, 20)
    in_migration_rate: float = param(
        0.02, "1/year", "in-migrants per resident per year when jobs match job seekers", 0, 0.5
    )
    out_migration_rate: float = param(
        0.01, "1/year", "baseline yearly probability that an adult leaves the city", 0, 0.5
    )
    job_separation_rate: float = param(0.08, "1/year", "yearly probability of losing a job", 0, 1)
    job_search_rate: float = param(
        0.6, "share/month", "share of job seekers applying each month", 0, 1
    )
    commute_decay: float = param(
        0.05, "1/min", "job search: decay of job attractiveness with travel time", 0, 1
    )
    adoption_innovation: float = param(
        0.03, "1/year", "Bass innovation rate of digital-service adoption", 0, 1
    )
    adoption_imitation: float = param(
        0.5, "1/year", "Bass imitation rate (peer effect) of adoption", 0, 5
    )
    neighbour_weight: float = param(
        0.3, "share", "weight of neighbouring districts in the peer effect", 0, 1
    )
    disadoption_rate: float = param(
        0.03, "1/year", "yearly probability of dropping a service", 0, 1
    )
    participation_base: float = param(
        0.3, "share/month", "online participation probability at full literacy and trust", 0, 1
    )


@dataclass
class TransportParams:
    """Commuting: mode choice, speed bounds, money costs and transit crowding (white paper
    Table 1, urban traffic; NI 1 and 4.3 on urban rail).

    Calibration of the mode constants (constant_*): the mature preset's commute car
    share stays in 25-50%, the band of large European cities (car as the main mode of the
    journey to work: Greater London roughly 30% in the 2011 Census; Paris region and Hamburg
    roughly 30-40% in their household travel surveys, EGT 2010 and MiD 2017); the emerging
    preset's in 35-65%, the band of fast-growing cities whose transit is still thin (Israel:
    60% of workers commute by private car, 22% by public transport; H. Bleikh, "Back and
    Forth: Commuting for Work in Israel", Taub Center policy paper 05.2018). The check and
    the table: tests/test_transport_bands.py and docs/transport.md.
    """

    mode_reconsider_rate: float = param(
        0.3, "1/year", "share of workers reconsidering their commuting mode each year", 0, 1
    )
    expectation_months: float = param(
        3.0,
        "months",
        "commuters' memory of travel times: the minutes mode choice expects follow the "
        "experienced ones with this time constant (exponential smoothing; day-to-day "
        "learning weights of 0.2-0.5 a day in Cascetta and Cantarella 1991 settle within "
        "weeks, habit keeps a month's jam from swinging choices: assumed 1-6); 0 = no memory",
        0,
        24,
    )
    mode_sensitivity: float = param(
        0.08,
        "1/min",
        "logit scale of mode choice: utils per minute of generalized cost (reviews: 0.03-0.1)",
        0.001,
        5,
    )
    value_of_time_share: float = param(
        0.5,
        "share of the wage rate",
        "value of commuting time over the wage per minute worked "
        "(US DOT 2016 guidance for local personal travel: 50% of hourly income)",
        0,
        3,
    )
    access_weight: float = param(
        2.0,
        "x",
        "weight of walking-to-stop and waiting minutes over in-vehicle minutes "
        "(about 1.5-2 in Wardman's 2004 review of UK values)",
        1,
        5,
    )
    walk_speed: float = param(4.8, "km/h", "walking speed", 1, 8)
    cycle_speed: float = param(15.0, "km/h", "cycling speed door to door", 5, 30)
    micro_speed: float = param(
        15.0, "km/h", "shared e-scooter/e-bike speed (EU e-scooters are capped at 20-25)", 5, 25
    )
    bus_speed: float = param(
        20.0, "km/h", "bus commercial speed on a free road, stops included", 5, 60
    )
    rail_speed: float = param(
        35.0, "km/h", "rail commercial speed, stops included (metros: 25-40)", 10, 120
    )
    transit_access_minutes: float = param(
        8.0, "min", "walking to the first stop and from the last stop", 0, 60
    )
    transit_wait_minutes: float = param(5.0, "min", "mean wait: half the headway", 0, 60)
    micro_access_minutes: float = param(3.0, "min", "finding and parking a shared vehicle", 0, 30)
    cycle_access_minutes: float = param(2.0, "min", "taking out and locking a bicycle", 0, 30)
    car_cost_per_km: float = param(
        0.0002, "k/km", "out-of-pocket car cost per km (fuel, wear: world prices)", 0, 0.01
    )
    parking_cost: float = param(
        12.0,
        "wage-minutes/trip",
        "parking at the district with the densest jobs, in minutes of the mean wage "
        "(local prices follow local wages)",
        0,
        600,
    )
    transit_fare: float = param(
        3.0, "wage-minutes/trip", "transit fare of one trip, in minutes of the mean wage", 0, 600
    )
    micro_fare: float = param(
        4.0, "wage-minutes/trip", "shared micro-mobility fee of one trip", 0, 600
    )
    constant_transit: float = param(
        -25.0,
        "min",
        "transit's alternative-specific constant relative to the car: what time and money "
        "leave out (car availability, reliability, comfort); calibrated, see above",
        -120,
        120,
    )
    constant_micro: float = param(
        8.0, "min", "micro-mobility's constant relative to the car (weather, safety)", -120, 120
    )
    constant_cycle: float = param(
        25.0, "min", "cycling's constant relative to the car (effort, weather, safety)", -120, 120
    )
    constant_walk: float = param(4.0, "min", "walking's constant relative to the car", -120, 120)
    peak_hour_share: float = param(
        0.3, "share", "share of commuters travelling in the peak hour (assumption)", 0.05, 1
    )
    standing_factor: float = param(
        2.0,
        "riders/seat",
        "capacity of a vehicle over its seats, standees included (assumption for a mix of "
        "buses and trains); riders beyond it are turned back",
        1,
        6,
    )
    crowding_alpha: float = param(
        0.15,
        "-",
        "crowding multiplier of in-vehicle time when every seat is taken is 1 + alpha "
        "(Wardman and Whelan 2011: about 1.1-1.2 seated near full, 1.5-2 standing)",
        0,
        5,
    )
    crowding_beta: float = param(3.0, "-", "crowding exponent (BPR-like)", 1, 10)


@dataclass
class FirmsParams:
    """Firms (white paper 4.1 industrial transition)."""

    per_1000_citizens: float = param(45.0, "firms/1000 citizens", "initial firm density", 1, 500)
    share_manufacturing: float = param(0.18, "share", "initial firm share: manufacturing", 0, 1)
    share_services: float = param(0.32, "share", "initial firm share: traditional services", 0, 1)
    share_logistics: float = param(0.1, "share", "initial firm share: logistics/port", 0, 1)
    share_creative: float = param(0.1, "share", "initial firm share: creative", 0, 1)
    share_digital: float = param(0.1, "share", "initial firm share: digital/ICT", 0, 1)
    share_health: float = param(0.12, "share", "initial firm share: health and elderly care", 0, 1)
    share_platform: float = param(0.08, "share", "initial firm share: platform services", 0, 1)
    productivity: float = param(
        6.0, "k/worker-month", "mean value added per worker of a 10-worker firm", 0.1, 100
    )
    # Relative productivity per sector: what stays of an industry's value added per worker
    # at equal workforce skill, digitalization and place (its capital intensity, its
    # products' value); public statistics report value added per worker by industry.
    sector_productivity_manufacturing: float = param(
        1.0, "x", "productivity of manufacturing firms relative to the others", 0.2, 5
    )
    sector_productivity_services: float = param(
        1.0, "x", "productivity of traditional-service firms relative to the others", 0.2, 5
    )
    sector_productivity_logistics: float = param(
        1.0, "x", "productivity of logistics/port firms relative to the others", 0.2, 5
    )
    sector_productivity_creative: float = param(
        1.0,
        "x",
        "productivity of creative firms relative to the others (white paper 5.1.1 Path 1: "
        "London's creative value added per worker is 20% above the whole economy's)",
        0.2,
        5,
    )
    sector_productivity_digital: float = param(
        1.0,
        "x",
        "productivity of digital/ICT firms relative to the others (white paper 5.1.2 Path 1: "
        "Tel Aviv's technology industry)",
        0.2,
        5,
    )
    sector_productivity_health: float = param(
        1.0, "x", "productivity of health and elderly-care firms relative to the others", 0.2, 5
    )
    sector_productivity_platform: float = param(
        1.0, "x", "productivity of platform-service firms relative to the others", 0.2, 5
    )
    productivity_sd: float = param(0.35, "log", "log-spread of firm productivity", 0, 2)
    frontier_productivity: float = param(
        8.0, "k/worker-month", "world frontier productivity that firms catch up with", 0.1, 200
    )
    frontier_growth: float = param(0.012, "1/year", "growth of the frontier", -0.05, 0.1)
    catch_up_rate: float = param(
        0.04, "1/year", "yearly share of the productivity gap closed at full digitalization", 0, 1
    )
    labour_elasticity: float = param(0.65, "-", "output elasticity of labour (alpha)", 0.1, 0.95)
    digital_mean: float = param(0.35, "0-1", "initial mean digitalization of firms", 0, 1)
    digital_gain: float = param(
        0.5, "x", "productivity gain of full digitalization in a digital-affine sector", 0, 5
    )
    skill_gain: float = param(0.8, "x", "productivity gain per unit of workforce skill", 0, 5)
    infrastructure_gain: float = param(
        0.3, "x", "productivity gain of full district ICT and transport", 0, 5
    )
    cluster_gain: float = param(
        0.25, "x", "productivity gain from related firms in nearby districts", 0, 5
    )
    cluster_decay_minutes: float = param(
        20.0, "min", "travel time over which cluster spillovers fall by 1/e", 1, 240
    )
    digital_cost: float = param(
        2.0, "wage-months/worker", "cost of raising digitalization by 0.1, per worker", 0, 50
    )
    digital_depreciation: float = param(0.08, "1/year", "yearly decay of digitalization", 0, 1)
    digital_payback_years: float = param(
        3.0, "years", "horizon over which firms expect digital investment to pay", 0.5, 30
    )
    hiring_speed: float = param(
        0.25, "share/month", "share of the gap to desired employment closed each month", 0, 1
    )
    wage_flexibility: float = param(
        0.5, "1/year", "wage response to labour-market tightness", 0, 10
    )
    fixed_cost: float = param(
        0.5, "wage-months/month", "fixed cost of a firm's premises and energy", 0, 50
    )
    overhead_staff: float = param(
        1.5,
        "workers",
        "workers a firm needs for management and overhead, who produce nothing",
        0,
        20,
    )
    entry_rate: float = param(
        0.08,
        "1/year",
        "new firms per would-be firm (firm density x residents) per year at the initial margin",
        0,
        1,
    )
    exit_loss_months: int = param(
        6, "months", "consecutive loss-making months after which a firm may exit", 1, 60
    )
    exit_rate: float = param(0.08, "1/year", "baseline yearly exit probability", 0, 1)
    relocation_rate: float = param(
        0.02, "1/year", "share of firms reconsidering their district each year", 0, 1
    )
    price_elasticity: float = param(
        0.5, "-", "response of local-sector prices to the demand/supply ratio", 0, 3
    )
    export_growth: float = param(0.02, "1/year", "growth of outside demand for exports", -0.1, 0.2)
    research_capacity: float = param(
        0.4,
        "0-1",
        "universities, labs and R&D staff relative to a leading research city, spread over "
        "the districts by kind (core most): knowledge-sector firm formation and productivity "
        "growth follow it (white paper 5.1.2 Path 1: a breakthrough field needs research)",
        0,
        1,
    )
    research_gain: float = param(
        1.0,
        "x",
        "relative rise of knowledge-sector (creative, digital) start-ups and of those firms' "
        "catch-up at full research stock (knowledge spillovers from universities and R&D "
        "localize innovation and firm formation, Audretsch and Feldman 1996; assumed 0.5-2); "
        "where they settle is research_site_weight",
        0,
        5,
    )
    research_site_weight: float = param(
        1.0,
        "utils",
        "firm location: added appeal to a knowledge-sector (creative, digital) entrant of a "
        "district at full research stock (spin-offs settle near the universities and labs "
        "they come from, Audretsch and Feldman 1996; the size is an assumption, plausible "
        "0.5-2, up to the spread of the district-kind affinities)",
        0,
        5,
    )
    land_weight: float = param(
        0.5,
        "utils",
        "firm location: weight of a district's open building land (cheaper sites; assumed "
        "0-1, a fraction of the weight of the district kind)",
        0,
        5,
    )


@dataclass
class GovernmentParams:
    """Government budget and capabilities (white paper 6.2, 7)."""

    income_tax: float = param(0.12, "share", "city tax rate on labour income", 0, 0.9)
    business_tax: float = param(0.1, "share", "city tax rate on firm profits", 0, 0.9)
    service_cost: float = param(
        0.06, "wage-months/place-month", "operating cost of one public-service place", 0, 5
    )
    service_build_cost: float = param(
        1.5, "wage-months/place", "capital cost of adding one public-service place", 0, 50
    )
    service_build_rate: float = param(
        0.1, "share/year", "share of the service shortfall built each year", 0, 1
    )
    unemployment_benefit: float = param(
        0.4, "share of mean wage", "monthly benefit of an unemployed citizen", 0, 1
    )
    capability_budget_share: float = param(
        0.06, "share of revenue", "yearly budget for building the six capabilities", 0, 0.5
    )
    share_organization: float = param(0.1, "share", "capability budget: organization", 0, 1)
    share_infrastructure: float = param(0.35, "share", "capability budget: infrastructure", 0, 1)
    share_perception: float = param(0.15, "share", "capability budget: perception", 0, 1)
    share_platform: float = param(0.15, "share", "capability budget: platform", 0, 1)
    share_services: float = param(0.15, "share", "capability budget: services", 0, 1)
    share_digital_governance: float = param(
        0.1, "share", "capability budget: digital-space governance", 0, 1
    )
    initial_organization: float = param(0.4, "0-1", "initial organization capability", 0, 1)
    initial_infrastructure: float = param(0.5, "0-1", "initial infrastructure capability", 0, 1)
    initial_perception: float = param(0.2, "0-1", "initial perception capability", 0, 1)
    initial_platform: float = param(0.2, "0-1", "initial platform capability", 0, 1)
    initial_services: float = param(0.3, "0-1", "initial services capability", 0, 1)
    initial_digital_governance: float = param(
        0.3, "0-1", "initial digital-space governance capability", 0, 1
    )
    capability_efficiency: float = param(
        0.3, "1/year", "capability gained per year at the reference spending", 0, 5
    )
    capability_reference_spend: float = param(
        0.3,
        "k/resident-year",
        "spending per resident per capability that gives full effect",
        0.001,
        10,
    )
    capability_depreciation: float = param(0.06, "1/year", "yearly decay of capabilities", 0, 1)
    legacy_upkeep: float = param(
        0.3,
        "share",
        "share of capability spending that keeps old systems running instead of building, at "
        "full legacy burden (city.legacy_burden): operations and maintenance of existing "
        "systems take about 80% of US federal IT spending (GAO 2019, GAO-19-471); the part "
        "legacy adds is an assumption, plausible 0.1-0.6",
        0,
        1,
    )
    infrastructure_rollout: float = param(
        0.15, "1/year", "speed at which capabilities raise district ICT, IoT and transport", 0, 2
    )
    debt_limit: float = param(0.5, "debt/GDP", "debt ratio above which spending is cut", 0.01, 5)
    initial_debt_ratio: float = param(0.2, "debt/GDP", "debt at the start", 0, 5)
    interest_rate: float = param(0.03, "1/year", "interest rate on public debt", 0, 0.3)
    tax_response: float = param(
        0.5,
        "tax points/year per debt-ratio point",
        "yearly change of the income-tax rate per point of debt ratio above (below) its "
        "starting level: the fiscal rule that makes overspending cost taxes",
        0,
        5,
    )
    budget: str = param(
        "package",
        "-",
        "public spending: 'package' = each package's own budget; 'equal' = every package "
        "spends the same envelope, the rest on conventional programmes",
        choices=("package", "equal"),
    )
    spending_envelope: float = param(
        0.1,
        "share of initial tax revenue/year",
        "equal budgets: yearly capability, initiative, platform and new-infrastructure "
        "spending every package gets",
        0,
        1,
    )
    envelope_growth: float = param(
        0.02, "1/year", "equal budgets: yearly growth of the spending envelope", -0.2, 0.5
    )
    conventional_service_share: float = param(
        0.5,
        "share",
        "equal budgets: share of unspent envelope building service places (the rest renews "
        "roads and transit)",
        0,
        1,
    )


def lever_limit_param(spec: LeverSpec) -> Any:
    """A lever's saturation limit as a parameter: its unit, its evidence and plausible range
    in the meaning, allowed from just above 0 (a limit of 0 would be no lever) to 1 for a
    share, else to ten times the default."""
    low, high = spec.plausible
    doc = (
        f"limit of the lever: {spec.meaning} ({spec.evidence}; plausible {low:g}-{high:g}; "
        "simulation.world.levers)"
    )
    bounded = spec.unit.startswith(("share", "0-1"))
    return param(spec.limit, spec.unit, doc, 0.01, 1 if bounded else 10 * spec.limit)


LeverParams = dataclasses.make_dataclass(
    "LeverParams",
    [(name, float, lever_limit_param(spec)) for name, spec in lever_specs().items()],
)
LeverParams.__doc__ = (
    "Lever limits: the value each policy lever approaches however much policy adds "
    "(diminishing returns, white paper 4.3; simulation.world.levers)."
)


SECTIONS: dict[str, type] = {
    "simulation": SimulationParams,
    "city": CityParams,
    "citizens": CitizensParams,
    "transport": TransportParams,
    "firms": FirmsParams,
    "government": GovernmentParams,
    "levers": LeverParams,
}


@dataclass
class Parameters:
    """All parameters of one model run, by section."""

    simulation: SimulationParams = field(default_factory=SimulationParams)
    city: CityParams = field(default_factory=CityParams)
    citizens: CitizensParams = field(default_factory=CitizensParams)
    transport: TransportParams = field(default_factory=TransportParams)
    firms: FirmsParams = field(default_factory=FirmsParams)
    government: GovernmentParams = field(default_factory=GovernmentParams)
    levers: LeverParams = field(default_factory=LeverParams)

    def as_flat_dict(self) -> dict[str, Any]:
        """All values keyed by ``"section.name"``, for manifests and tables."""
        return {
            f"{section}.{f.name}": getattr(getattr(self, section), f.name)
            for section in SECTIONS
            for f in fields(getattr(self, section))
        }

    def sector_shares(self) -> list[float]:
        """Initial firm shares per sector, in SECTOR_NAMES order, normalised to sum 1."""
        raw = [getattr(self.firms, f"share_{s}") for s in SECTOR_NAMES]
        return normalised(raw, "firms.share_*")

    def sector_productivities(self) -> list[float]:
        """Relative productivity per sector (firms.sector_productivity_*), in SECTOR_NAMES
        order."""
        return [getattr(self.firms, f"sector_productivity_{s}") for s in SECTOR_NAMES]

    def capability_shares(self) -> list[float]:
        """Capability budget shares, in CAPABILITY_NAMES order, normalised to sum 1."""
        raw = [getattr(self.government, f"share_{c}") for c in CAPABILITY_NAMES]
        return normalised(raw, "government.share_*")

    def lever_limits(self) -> np.ndarray:
        """Every lever key's saturation limit (simulation.world.levers.key_limits)."""
        limits = self.levers
        return key_limits({name: getattr(limits, name) for name in _field_names(type(limits))})

    def initial_capabilities(self) -> list[float]:
        """Initial capability stocks in CAPABILITY_NAMES order."""
        return [getattr(self.government, f"initial_{c}") for c in CAPABILITY_NAMES]


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, looked up once per class (lever_limits reads them every
    step)."""
    return tuple(f.name for f in fields(cls))


def normalised(raw: list[float], label: str) -> list[float]:
    """Shares ``raw`` scaled to sum 1 (the model's rule for firm and capability shares);
    ParameterError naming ``label`` when every share is 0."""
    total = sum(raw)
    if total <= 0:
        raise ParameterError(f"{label}: at least one share must be positive (all are 0)")
    return [x / total for x in raw]


def iter_specs() -> Iterator[tuple[str, dataclasses.Field, ParamSpec]]:
    """Yield ``("section.name", field, spec)`` for every parameter, in declaration order."""
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            yield f"{section}.{f.name}", f, f.metadata["spec"]


def _all_keys() -> list[str]:
    return [key for key, _, _ in iter_specs()]


def _unknown_key_message(key: str) -> str:
    hint = did_you_mean(key, _all_keys()) or "; run 'smartcity params' for the list"
    return f"unknown parameter '{key}'{hint}"


def _annotation(kind: Any, spec: ParamSpec) -> Any:
    """The pydantic type of a parameter: its Python type with the spec's range or choices
    (an ``X | None`` field keeps its ``None``)."""
    args = typing.get_args(kind)
    if type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return _annotation(inner, spec) | None
    if spec.choices is not None:
        return Literal[spec.choices]
    if kind is int:
        return Annotated[int, Field(ge=spec.lo, le=spec.hi)]
    if kind is float:
        return number(spec.lo, spec.hi)
    return kind


def section_schema(section: str, cls: type) -> type[Schema]:
    """The schema of one preset section, from its dataclass: one field per parameter with its
    type, range or choices, default and meaning. A new ``param(...)`` field needs nothing
    else: its schema, its checks and its JSON Schema entry follow from it."""
    hints = typing.get_type_hints(cls)
    columns: dict[str, Any] = {}
    for f in fields(cls):
        spec = f.metadata["spec"]
        columns[f.name] = (
            _annotation(hints[f.name], spec),
            Field(default=f.default, description=f"{spec.doc} [{spec.unit}]"),
        )
    return create_model(f"{section}_table", __base__=Schema, __doc__=cls.__doc__, **columns)


SECTION_SCHEMAS: dict[str, type[Schema]] = {
    section: section_schema(section, cls) for section, cls in SECTIONS.items()
}
"""One schema per preset section, built from the parameters' dataclass metadata."""

PARAM_SPECS: dict[str, ParamSpec] = {key: spec for key, _, spec in iter_specs()}

PresetSchema = create_model(
    "Preset",
    __base__=Schema,
    extends=(
        str | None,
        Field(default=None, description="a shipped preset name or a .toml path to start from"),
    ),
    **{section: (schema | None, None) for section, schema in SECTION_SCHEMAS.items()},
)
"""A preset file: optional ``extends`` and one optional table per section."""


def check_value(key: str, value: Any) -> Any:
    """``value`` of parameter ``"section.name"`` typed and range-checked.

    Text (from the command line) is parsed as the parameter's type; anything else must have
    it already (``count = 5000``, not ``5000.0`` or ``true``).

    Raises:
        ParameterError: one line naming the parameter, the value and what is allowed.
    """
    section, name = key.split(".", 1)
    schema = SECTION_SCHEMAS[section]
    spec = PARAM_SPECS[key]
    text = isinstance(value, str) and schema.model_fields[name].annotation is not str
    try:
        return getattr(schema.model_validate({name: value}, strict=not text), name)
    except ValidationError as exc:
        kind = exc.errors()[0]["type"]
    if kind in ("greater_than_equal", "less_than_equal"):
        raise ParameterError(
            f"parameter '{key}' = {value!r} is out of range; allowed: {spec.allowed_with_unit()}"
        )
    if kind.startswith("int") and spec.choices is None:
        raise ParameterError(
            f"parameter '{key}' = {value!r} is not a whole number; use a whole number: "
            f"{spec.allowed_with_unit()}"
        )
    raise ParameterError(
        f"parameter '{key}' = {value!r} is not allowed; use {spec.allowed_with_unit()}"
    )


def apply_overrides(params: Parameters, overrides: Mapping[str, Any]) -> Parameters:
    """Return a copy of ``params`` with ``{"section.name": value}`` overrides applied.

    Keys may also use ``__`` instead of ``.`` (keyword-argument form). Raises
    ParameterError naming the first bad key or value.
    """
    changes: dict[str, dict[str, Any]] = {}
    for raw_key, value in overrides.items():
        key = str(raw_key).replace("__", ".")
        if key not in PARAM_SPECS:
            raise ParameterError(_unknown_key_message(key))
        section, name = key.split(".", 1)
        changes.setdefault(section, {})[name] = check_value(key, value)
    updated = {
        section: dataclasses.replace(getattr(params, section), **values)
        for section, values in changes.items()
    }
    result = dataclasses.replace(params, **updated)
    c = result.citizens
    if c.child_share + c.elderly_share > 1:
        raise ParameterError(
            f"citizens.child_share ({c.child_share:g}) + citizens.elderly_share "
            f"({c.elderly_share:g}) must not exceed 1"
        )
    result.sector_shares()
    result.capability_shares()
    return result


def preset_values(data: Mapping[str, Any], source: str) -> tuple[str | None, dict[str, Any]]:
    """Validate a preset file's content; its ``extends`` and its flat ``{"section.name":
    value}`` values (only the keys the file sets)."""
    for section in data:
        if section != "extends" and section not in SECTIONS:
            hint = did_you_mean(f"[{section}]", [f"[{s}]" for s in SECTIONS])
            raise ParameterError(
                f"{source}: unknown section [{section}]{hint}; allowed: {', '.join(SECTIONS)}"
            )
        table = data[section]
        if section in SECTIONS and isinstance(table, Mapping):
            for name in table:
                if f"{section}.{name}" not in PARAM_SPECS:
                    raise ParameterError(f"{source}: {_unknown_key_message(f'{section}.{name}')}")
    preset = validate(PresetSchema, data, source, ParameterError)
    values = {
        f"{section}.{name}": getattr(table, name)
        for section in SECTIONS
        if (table := getattr(preset, section)) is not None
        for name in table.model_fields_set
    }
    return preset.extends, values


def shipped_names(folder: Path) -> list[str]:
    """Names of the TOML files shipped in ``folder`` (presets, initiatives, packages)."""
    return sorted(p.stem for p in folder.glob("*.toml"))


def find_toml(
    name: str | Path, folder: Path, what: str, error: type[InputError] = InputError
) -> Path:
    """The file of a shipped ``name`` in ``folder``, or a user's ``.toml`` path; otherwise
    one-line ``error`` naming the choices, with a did-you-mean."""
    text = str(name)
    names = shipped_names(folder)
    if text in names:
        return folder / f"{text}.toml"
    if text.endswith(".toml"):
        return Path(text)
    hint = did_you_mean(text, names)
    raise error(
        f"unknown {what} '{text}'{hint} (available: {', '.join(names)}, or a path to a .toml file)"
    )


def check_seed(seed: object) -> None:
    """Refuse a seed numpy cannot use: it must be an integer >= 0, a SeedSequence or None."""
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"seed must be an integer >= 0, got {seed!r}")


def parse_set_option(text: str) -> tuple[str, str]:
    """Split a command-line ``section.name=value`` into key and text value."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ParameterError(f"--set expects section.name=value, got {text!r}")
    return key.strip(), value.strip()


def parameters_markdown() -> str:
    """The parameter reference (docs/parameters.md), generated from the metadata."""
    lines = [
        "# Parameter reference",
        "",
        "Generated by `smartcity params --markdown`; do not edit by hand.",
        "Set a value in a preset TOML file (`[section]` then `name = value`), by keyword",
        "(`CityModel(citizens__count=5000)`) or on the command line",
        "(`--set citizens.count=5000`). Defaults below are the built-in values;",
        "presets (`simulation/world/presets/*.toml`) override some of them.",
        "",
    ]
    current = None
    for key, f, spec in iter_specs():
        section = key.split(".", 1)[0]
        if section != current:
            current = section
            lines += [f"## [{section}]", "", (SECTIONS[section].__doc__ or "").strip(), ""]
            lines += ["| parameter | default | unit | allowed | meaning |", "|---|---|---|---|---|"]
        lines.append(f"| `{key}` | {f.default!r} | {spec.unit} | {spec.allowed()} | {spec.doc} |")
    return "\n".join(lines) + "\n"
