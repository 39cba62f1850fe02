"""The scenario's organisations, deminer teams and builder brigades (all synthetic, sized to the
announcement).

Teams and brigades are numbered per method or trade ("T-MAN-001", "B-ROAD-001") and spread round-robin over
the base towns, nearest to the contested zone first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shapely.geometry import Point

from sapper.domain.figures import METHOD_FIGURES
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Organisation, OrgKind, Trade

ORGANISATIONS: tuple[Organisation, ...] = (
    Organisation("ORG-AUTH", "Regional reconstruction authority (synthetic)", OrgKind.AUTHORITY),
    Organisation("ORG-STATE", "State demining operator (synthetic)", OrgKind.OPERATOR),
    Organisation("ORG-OPA", "Synthetic Operator A", OrgKind.OPERATOR),
    Organisation("ORG-OPB", "Synthetic Operator B", OrgKind.OPERATOR),
    Organisation("ORG-RCA", "Reconstruction Contractor A (synthetic)", OrgKind.CONTRACTOR),
    Organisation("ORG-RCB", "Reconstruction Contractor B (synthetic)", OrgKind.CONTRACTOR),
)

#: Which operators field teams of each method, in turn (machines mostly with the state operator; dogs with one
#: NGO).
TEAM_OPERATORS: dict[Method, tuple[str, ...]] = {
    Method.SURVEY: ("ORG-STATE", "ORG-OPA", "ORG-OPB"),
    Method.MANUAL: ("ORG-STATE", "ORG-STATE", "ORG-OPA", "ORG-OPB"),
    Method.DOG: ("ORG-OPA",),
    Method.MECHANICAL: ("ORG-STATE", "ORG-STATE", "ORG-OPB"),
    Method.BAC: ("ORG-STATE", "ORG-OPA", "ORG-OPB"),
}

#: Which contractors field brigades of each trade, in turn.
BRIGADE_CONTRACTORS: dict[Trade, tuple[str, ...]] = {
    Trade.ROAD: ("ORG-RCA",),
    Trade.BRIDGE: ("ORG-RCA",),
    Trade.POWER: ("ORG-RCB",),
    Trade.WATER: ("ORG-RCB",),
    Trade.BUILDING: ("ORG-RCA", "ORG-RCB"),
}

METHOD_CODES: dict[Method, str] = {Method.SURVEY: "SUR", Method.MANUAL: "MAN", Method.DOG: "DOG",
                                   Method.MECHANICAL: "MEC", Method.BAC: "BAC"}


def deminer_teams(split: Sequence[tuple[Method, int]], sizes: dict[Method, int], bases: Sequence[Point], *,
                  productivity: Mapping[Method, float] | None = None) -> list[DeminerTeam]:
    """``split`` gives the number of teams per method; productivity comes from ``productivity`` (m² per team-day)
    for the methods it names, else from METHOD_FIGURES."""
    rates = {m: f.value for m, (f, _) in METHOD_FIGURES.items()} | dict(productivity or {})
    teams: list[DeminerTeam] = []
    for method, count in split:
        orgs = TEAM_OPERATORS[method]
        for k in range(count):
            teams.append(DeminerTeam(
                id=f"T-{METHOD_CODES[method]}-{k + 1:03d}",
                organisation_id=orgs[k % len(orgs)],
                method=method,
                size=sizes[method],
                base=bases[k % len(bases)],
                productivity_m2_per_day=rates[method],
                synthetic=True,
            ))
    return teams


def builder_brigades(split: Sequence[tuple[Trade, int]], size: int, bases: Sequence[Point]
                     ) -> list[BuilderBrigade]:
    """``split`` gives the number of brigades per trade, each of ``size`` builders."""
    brigades: list[BuilderBrigade] = []
    for trade, count in split:
        orgs = BRIGADE_CONTRACTORS[trade]
        for k in range(count):
            brigades.append(BuilderBrigade(
                id=f"B-{trade.value.upper()}-{k + 1:03d}",
                organisation_id=orgs[k % len(orgs)],
                trade=trade,
                size=size,
                base=bases[k % len(bases)],
                synthetic=True,
            ))
    return brigades
