"""Planning figures: sapper's defaults, each with the source it comes from.

These are defaults for a scenario, not facts about any one operation: every figure is a parameter a planner can change.
Figures without a good public source (survey productivity, the winter threshold) are marked as assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sapper.domain.resources import Method, Trade


@dataclass(frozen=True, slots=True)
class Figure:
    value: float
    unit: str
    source: str


#: Productivity of one deminer team per working day, by method (m² per team-day), and typical team size.
METHOD_FIGURES: dict[Method, tuple[Figure, int]] = {
    Method.MANUAL: (
        Figure(180.0, "m²/team-day", "6 deminers × 30 m²/deminer/day; HALO Trust gives 10–50 m² per deminer per day"),
        8,  # leader + 6 deminers + medic: sapper's assumption (see TEAM_MAKEUP)
    ),
    Method.DOG: (
        Figure(850.0, "m²/team-day", "SFOR: two dogs 800–900 m²/day, not above 30 °C"),
        6,  # two dogs, handlers, leader, medic
    ),
    Method.MECHANICAL: (
        Figure(
            2500.0,
            "m²/team-day",
            "vendor claim ~5,000 m²/day per system of ≥2 machines (JMU 20.2); sapper halves it for manual follow-up "
            "and moves (assumption)",
        ),
        10,  # two machines, operators, follow-up deminers, medic
    ),
    Method.SURVEY: (
        Figure(
            20000.0,
            "m²/team-day",
            "non-technical plus technical survey of suspected land; no good public source (assumption, a parameter)",
        ),
        6,
    ),
}

#: Manual team make-ups reported by operators, for the manual team size of 8 (leader + 6 deminers + medic), which is
#: sapper's assumption between them: FSD in Iraq fields a team leader, 5 deminers and a medic (7); DDG a section
#: leader and 6 deminers (7, without its medic).
TEAM_MAKEUP: dict[str, Figure] = {
    "FSD Iraq": Figure(7.0, "people/team", "FSD Iraq: team leader + 5 deminers + medic"),
    "DDG": Figure(7.0, "people/section", "DDG: section leader + 6 deminers"),
}

#: Land released in Bosnia and Herzegovina, as the Landmine Monitor reports it (km²), for the survey/clearance split.
BIH_RELEASE: dict[str, Figure] = {
    "2016 cancelled": Figure(46.9, "km²", "Landmine Monitor 2017; the figure may cover three years, not 2016 alone"),
    "2016 reduced": Figure(10.4, "km²", "Landmine Monitor 2017"),
    "2016 cleared": Figure(1.3, "km²", "Landmine Monitor 2017"),
    "2017 released": Figure(5.23, "km²", "Landmine Monitor 2018: all of 2017 (2.45 cancelled, 2.48 reduced, "
                                         "0.30 cleared)"),
}

#: Builders in one brigade by default (assumption).
BRIGADE_SIZE = 25

#: Hours of manual clearance in a working day (SFOR); informs productivity, not the calendar.
MANUAL_HOURS_PER_DAY = Figure(6.0, "h/day", "SFOR: at most 6 h of manual clearance per day")

#: Default work buffer around an asset that must be released before repair, by asset type (m). Assumption.
WORK_BUFFER_M: dict[str, float] = {
    "road": 25.0,
    "bridge": 100.0,
    "power_line": 30.0,
    "substation": 100.0,
    "water": 50.0,
    "school": 50.0,
    "clinic": 50.0,
    "house": 25.0,
}

#: Typical builder-days to repair one unit of an asset at "destroyed" damage, by trade (assumption, synthetic).
TRADE_LABELS: dict[Trade, str] = {
    Trade.ROAD: "road works",
    Trade.BRIDGE: "bridge works",
    Trade.POWER: "power lines and substations",
    Trade.WATER: "water and sewage",
    Trade.BUILDING: "building repair",
}


@dataclass(frozen=True, slots=True)
class HazardSizeDistribution:
    """Quantiles of real hazard-area sizes (m²), BHMAC maps of Bosnia and Herzegovina, vectorised (DOMAIN.md)."""

    quantiles: tuple[tuple[float, float], ...] = field(
        default=(
            (0.0, 500.0),
            (0.25, 8_700.0),
            (0.50, 39_562.0),
            (0.75, 110_000.0),
            (0.90, 250_000.0),
            (0.99, 809_000.0),
            (1.0, 3_060_000.0),
        )
    )
    source: str = (
        "BHMAC hazard maps, vectorised: median 39,562 m², p25 8.7k, p75 110k, p90 250k, p99 809k, max 3.06 km²"
    )
