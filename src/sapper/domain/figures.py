"""Planning figures: sapper's defaults, each with the source it comes from.

These are defaults for a scenario, not facts about any one operation: every figure is a parameter a planner can change.
Figures without a good public source (technical survey and BAC productivity, non-technical survey days per area, the
winter threshold) are marked as assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sapper.domain.resources import Method, Trade


@dataclass(frozen=True, slots=True)
class Figure:
    value: float
    unit: str
    source: str


#: Technical survey (IMAS 08.20) by one survey team per working day, over the land non-technical survey does not
#: cancel. No public source gives it (DOMAIN.md: make it a parameter): it is a programme parameter (each survey
#: team's ``productivity_m2_per_day`` in the workforce file; ``KurskBorderConfig.survey_m2_per_team_day`` for the
#: reference scenario), and this default is an ASSUMPTION calibrated to Bosnia and Herzegovina's stated national
#: throughput (35–40 km² a year by clearance and technical survey with about 2,500 deminers, BHMAC): a BiH-sized
#: register planned with it releases about that much by TS and clearance in its first year
#: (``benchmarks/forecast_pace.py``, docs/forecast.md "Pace against real programmes").
TS_M2_PER_TEAM_DAY = Figure(
    3000.0,
    "m²/team-day",
    "assumption calibrated to BiH's stated 35–40 km²/yr by clearance and TS (BHMAC) on a BiH-sized register "
    "(benchmarks/forecast_pace.py); no public source gives a technical-survey rate",
)

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
            TS_M2_PER_TEAM_DAY.value,
            "m²/team-day",
            "technical survey (IMAS 08.20): targeted physical investigation of the land non-technical survey does not "
            "cancel; no good public source (DOMAIN.md): TS_M2_PER_TEAM_DAY, an assumption calibrated to BiH's "
            "throughput, a parameter. Non-technical survey is planned per area (NTS_DAYS), not per m²",
        ),
        6,
    ),
    Method.BAC: (
        Figure(
            1000.0,
            "m²/team-day",
            "battle area clearance (IMAS 09.11): surface and sub-surface search with detectors of land known to hold "
            "no mines; no good public source (DOMAIN.md): assumption, a parameter, between manual mine clearance "
            "(180) and dogs (850) as not every signal is excavated as a possible mine",
        ),
        8,  # team leader qualified to EOD level 2, 6 searchers, medic: sapper's assumption, as a manual team
    ),
}

#: Days one survey team spends on the non-technical survey (IMAS 08.10) of one hazard area, by the area's size: the
#: visit, interviews, walking the perimeter, marking and the report take days per area, not m² per day over the
#: polygon. (upper bound of the size band in m², working days); assumption, a parameter (no public source gives NTS
#: time per area).
NTS_DAYS: tuple[tuple[float, int], ...] = ((10_000.0, 1), (100_000.0, 2), (1_000_000.0, 4), (float("inf"), 6))
NTS_DAYS_SOURCE = "assumption (no public source gives non-technical survey time per area), a parameter"

#: Survey outcome shares in Bosnia and Herzegovina in 2017 (Landmine Monitor 2018: 2.45 km² cancelled, 2.48 reduced,
#: 0.30 cleared of 5.23 released): non-technical survey cancelled 47 % of the land released. Planning uses it as the
#: share of a suspected area's land NTS cancels (never more than the area's share that needs no clearance); the rest
#: goes to technical survey, which reduces what it does not send to clearance.
NTS_CANCEL_SHARE = Figure(round(2.45 / 5.23, 3), "share of area",
                          "Landmine Monitor 2018: BiH 2017, 2.45 km² cancelled of 5.23 km² released")

#: Working days of one EOD spot task (IMAS 09.30 EOD, as IMAS 07.11 places it in land release: it releases no
#: area): the items non-technical survey reports on the surface of an ERW-only area are destroyed or removed by a
#: BAC/EOD team before technical survey. One task per ERW-only area; assumption, a parameter.
EOD_SPOT_DAYS = Figure(1.0, "team-days per area", "assumption: one EOD spot task per ERW-only area, a parameter")

#: Working days a team or brigade needs to take up a role that is not its own (a survey team's lot of manual
#: clearance, a road brigade's lot of bridge work): drawing and checking the other kit, a refresher on the standing
#: operating procedure, the operator's quality check before work starts. The accreditation for the method (IMAS 07.30)
#: is taken as held: the register lists only methods a team is trained and equipped for. Assumption, a parameter
#: (``sapper plan --role-change-days``); no public source gives the time.
ROLE_CHANGE_DAYS = Figure(3.0, "working days per change to a borrowed role",
                          "assumption: kit, procedure refresher and quality check before work in another role")

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
