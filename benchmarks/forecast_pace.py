"""Benchmark: why the forecast's P50 lies after the plan, and sapper's pace beside real programmes.

    .venv/bin/python benchmarks/forecast_pace.py [--seed 2025] [--runs 1000] [--ts-rate M2] [--write docs/forecast.md]

Two registers are built with the scenario builder into temporary stores and planned by the greedy engine:

- **kursk-border** as it is (1,000 deminers, 2,400 hazard areas, 1,150 km² contested zone);
- **a BiH-sized register**: the same builder with every deminer team count, the hazard count and the contested zone
  multiplied by 2.5 and rounded to whole teams (2,496 deminers, 6,000 hazard areas, 2,875 km²), so that the force
  matches Bosnia and Herzegovina's ~2,500 deminers at kursk-border's density of contamination; hazard sizes follow
  the BiH distribution in both. Builders are kursk-border's (5,000); their pace is not compared here.

**The gap** (kursk-border): the plan's own forecast inputs are run under ``UncertaintyModel.certain()`` (no variance:
must be the plan), under the default model with each source of variation switched on alone
(``UncertaintyModel.only``), and under the whole default model; ``--runs`` runs each from one seed.

**Pace**: land released per year and per week, split by what released it (NTS cancelled, TS reduced, cleared by
each clearance method, BAC in ERW-only areas), from each area's planned (and forecast P50) release date and the
compiled work of its lots: what NTS is expected to cancel is the area less the technical survey's m², TS reduces
its m² less what goes to clearance, clearance is credited to the method each lot is planned in. "Per year" is the
land released in the first 365 days of the plan (the programme at full strength), and the mean over the whole plan.

``--ts-rate`` plans both registers with another technical-survey rate (m² per survey team-day; default sapper's
``TS_M2_PER_TEAM_DAY``, which was calibrated with it: the rate at which the BiH-sized register's first planned year
releases about BiH's stated 35–40 km² by TS and clearance).

Results go to benchmarks/results/forecast_pace.json and, with ``--write``, replace the sections between the markers.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _common import machine, write_section

from sapper.domain.figures import TS_M2_PER_TEAM_DAY
from sapper.domain.resources import Method
from sapper.forecast import Source, UncertaintyModel
from sapper.plan import Engine
from sapper.scenario.kursk_border import DEFAULT_TEAM_SPLIT, KurskBorderConfig
from sapper.services.forecast import Forecast, PreparedForecast, prepare_forecast, run_prepared
from sapper.services.planning import PlanSettings, plan_store
from sapper.services.scenario import build_scenario
from sapper.store import open_store

GAP = ("<!-- forecast-gap:begin -->", "<!-- forecast-gap:end -->")
PACE = ("<!-- forecast-pace:begin -->", "<!-- forecast-pace:end -->")
RESULTS = Path(__file__).parent / "results" / "forecast_pace.json"
BIH_SCALE = 2.5


def bih_config(ts_rate: float = TS_M2_PER_TEAM_DAY.value) -> KurskBorderConfig:
    base = KurskBorderConfig(survey_m2_per_team_day=ts_rate)
    split = tuple((m, round(n * BIH_SCALE)) for m, n in DEFAULT_TEAM_SPLIT)
    sizes = dict(base.team_sizes)
    return dataclasses.replace(
        base, deminers=sum(n * sizes[m] for m, n in split), hazard_count=round(base.hazard_count * BIH_SCALE),
        zone_area_km2=base.zone_area_km2 * BIH_SCALE, team_split=split)


def credited(prep: PreparedForecast) -> dict[str, dict[str, float]]:
    """Per hazard area, m² released by each way (nts, ts, clearance:<method>, bac)."""
    info, tasks = prep.compiled.info, prep.tasks
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    ts: dict[str, float] = defaultdict(float)
    for j, i in enumerate(info):
        if not i.hazard_id:
            continue
        if i.kind == "ts":
            ts[i.hazard_id] += i.work
        elif i.kind == "clearance":
            method = prep.compiled.problem.tasks[j].modes[tasks.modes[j]].name
            key = "bac" if method == Method.BAC.value else f"clearance:{method}"
            out[i.hazard_id][key] += i.work
    for h in prep.hazards:
        if not any(i.kind == "released" and i.hazard_id == h.id for i in info):
            continue
        cleared = sum(out[h.id].values())
        tsm = ts.get(h.id, 0.0)
        out[h.id]["nts"] += max(0.0, h.area_m2 - tsm)
        out[h.id]["ts"] += max(0.0, tsm - cleared)
    return {k: dict(v) for k, v in out.items()}


def pace(prep: PreparedForecast, dates: dict[str, dt.date]) -> dict[str, object]:
    """km² released per year (first 365 days; whole plan mean) and per week, by way, for release ``dates``."""
    start = prep.compiled.calendar.start
    last = max(dates.values())
    years = max((last - start).days, 1) / 365.25
    first = start + dt.timedelta(days=365)
    by: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for hid, ways in credited(prep).items():
        d = dates.get(hid)
        if d is None:
            continue
        for way, m2 in ways.items():
            by[way][1] += m2 / 1e6
            if d < first:
                by[way][0] += m2 / 1e6
    ways = {w: {"first_year_km2": round(a, 2), "mean_km2_per_year": round(t / years, 2),
                "first_year_km2_per_week": round(a / 52.18, 3)} for w, (a, t) in sorted(by.items())}
    total_first = sum(a for a, _ in by.values())
    total = sum(t for _, t in by.values())
    return {"finish": last.isoformat(), "years": round(years, 2), "total_km2": round(total, 2),
            "first_year_km2": round(total_first, 2), "first_year_km2_per_week": round(total_first / 52.18, 3),
            "mean_km2_per_year": round(total / years, 2), "by_way": ways}


def register(tmp: Path, name: str, seed: int, config: KurskBorderConfig | None) -> tuple[Path, dict[str, object]]:
    db = tmp / f"{name}.gpkg"
    with open_store(db, create=True) as store:
        build_scenario(store, "kursk-border", seed=seed, config=config)
        t0 = time.perf_counter()
        plan_store(store, settings=PlanSettings(engine=Engine.GREEDY))
        teams = store.teams()
        hz = store.hazards()
        facts = {"deminers": sum(t.size for t in teams), "teams": len(teams),
                 "teams_by_method": {m.value: sum(1 for t in teams if t.method is m) for m in Method},
                 "hazard_areas": len(hz), "hazard_km2": round(sum(h.area_m2 for h in hz) / 1e6, 2),
                 "plan_seconds": round(time.perf_counter() - t0, 1)}
    return db, facts


def forecast_dates(f: Forecast) -> dict[str, dt.date]:
    return {a.hazard_id: a.release.p50 for a in f.areas}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--ts-rate", type=float, default=TS_M2_PER_TEAM_DAY.value,
                    help="technical-survey rate of the survey teams, m² per team-day (default: sapper's)")
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    here = machine()
    doc: dict[str, object] = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": here,
                              "seed": args.seed, "runs": args.runs, "ts_rate": args.ts_rate}
    with tempfile.TemporaryDirectory() as tmp:
        results: dict[str, object] = {}
        for name, config in (("kursk-border", KurskBorderConfig(survey_m2_per_team_day=args.ts_rate)),
                             ("bih-sized", bih_config(args.ts_rate))):
            print(f"building and planning {name}", file=sys.stderr, flush=True)
            db, facts = register(Path(tmp), name, args.seed, config)
            with open_store(db) as store:
                prep = prepare_forecast(store, progress=False)
            planned = {a.hazard_id: a.planned for a in run_prepared(prep, runs=1, seed=0,
                                                                    model=UncertaintyModel.certain()).areas}
            full = run_prepared(prep, runs=args.runs, seed=1)
            entry: dict[str, object] = {**facts, "planned_finish": prep.run.finish_date.isoformat()
                                        if prep.run.finish_date else None,
                                        "planned": pace(prep, planned),
                                        "forecast_p50": pace(prep, forecast_dates(full))}
            if name == "kursk-border":
                entry["gap"] = gap(prep, args.runs)
                t = prep.tasks
                lots = [float(d) for d, g in zip(t.base_days, t.group, strict=True)
                        if g >= 0 and t.groups[g] in t.weather_groups]
                entry["demining_lots"] = {"count": len(lots), "mean_days": round(sum(lots) / len(lots), 2),
                                          "median_days": sorted(lots)[len(lots) // 2]}
            results[name] = entry
        doc["registers"] = results
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc, indent=1))
    if args.write:
        rate = "" if args.ts_rate == TS_M2_PER_TEAM_DAY.value else f"--ts-rate {args.ts_rate:g} "
        command = (f"`.venv/bin/python benchmarks/forecast_pace.py --seed {args.seed} --runs {args.runs} {rate}"
                   f"--write {args.write}`")
        write_section(args.write, *GAP, gap_text(doc, command), "## Why the forecast's P50 lies after the plan")
        write_section(args.write, *PACE, pace_text(doc, command), "## Pace against real programmes")


def gap(prep: PreparedForecast, runs: int) -> list[dict[str, object]]:
    """The region's P10/P50/P90 and lots cut to a season with no variance, each source alone, and all."""
    base = UncertaintyModel()
    rows: list[tuple[str, UncertaintyModel]] = [("none (a world equal to the plan)", UncertaintyModel.certain())]
    rows += [(f"{s.value} alone", base.only(s)) for s in Source]
    rows += [("productivity: bias and spread", base.only(Source.BIAS, Source.PROGRAMME, Source.UNIT, Source.DAY)),
             ("productivity spread without its bias", base.only(Source.PROGRAMME, Source.UNIT, Source.DAY)),
             ("everything but the productivity bias", base.only(*(s for s in Source if s is not Source.BIAS))),
             ("everything (the default model)", base),
             ("day-to-day noise alone, unbiased rounding", dataclasses.replace(base, round_up=False).only(Source.DAY)),
             ("team factor alone, unbiased rounding", dataclasses.replace(base, round_up=False).only(Source.UNIT)),
             ("everything, unbiased rounding", dataclasses.replace(base, round_up=False))]
    out = []
    for label, model in rows:
        print(f"  gap: {label}", file=sys.stderr, flush=True)
        f = run_prepared(prep, runs=runs, seed=1, model=model)
        out.append({"sources": label, "p10": f.overall.p10.isoformat(), "p50": f.overall.p50.isoformat(),
                    "p90": f.overall.p90.isoformat(), "clipped_lots": f.clipped_lots,
                    "beyond_horizon": f.beyond_horizon, "runs": f.runs})
    return out


def _months(a: str, b: str) -> str:
    d = (dt.date.fromisoformat(a) - dt.date.fromisoformat(b)).days / 30.44
    return f"{d:+.1f}"


def gap_text(doc: dict[str, object], command: str) -> str:
    kb = doc["registers"]["kursk-border"]  # type: ignore[index]
    finish = kb["planned_finish"]
    lines = [GAP[0], "",
             f"Measured {doc['date']} on {doc['machine']} by {command} (kursk-border, seed {doc['seed']}, greedy plan; "
             f"{doc['runs']} runs per row from seed 1). The plan finishes **{finish}**. Months are from the plan's "
             "finish to the region's P50; \"cut\" counts lots longer than their pool's longest season, over all runs.",
             "", "| sources of variation switched on | P10 | P50 | P90 | P50 − plan (months) | lots cut to a season |",
             "|---|---|---|---|---|---|"]
    for r in kb["gap"]:
        lines.append(f"| {r['sources']} | {r['p10']} | {r['p50']} | {r['p90']} | {_months(r['p50'], finish)} | "
                     f"{r['clipped_lots']:,} |")
    lots = kb["demining_lots"]
    lines += ["", f"The plan's {lots['count']:,} demining lots last {lots['mean_days']} working days on average "
              f"(median {lots['median_days']:g}); a noisy lot's days are rounded up, about half a day per lot.",
              "", GAP[1]]
    return "\n".join(lines)


#: DOMAIN.md's anchors: BiH's national capacity by clearance and technical survey (BHMAC), km² a year; the reported
#: Kursk pace of land "checked" in summer 2025 (regional and state media, unverified), ha a week.
BIH_KM2_PER_YEAR = (35.0, 40.0)
KURSK_HA_PER_WEEK = (2_250, 3_800)


def _ts_and_clearance(p: dict[str, object]) -> float:
    ways = p["by_way"]
    assert isinstance(ways, dict)
    return float(sum(v["first_year_km2"] for w, v in ways.items() if w != "nts"))


WAYS = {"nts": "NTS cancelled", "ts": "TS reduced", "clearance:manual": "cleared, manual",
        "clearance:dog": "cleared, dogs", "clearance:mechanical": "cleared, machines", "bac": "BAC (ERW-only areas)"}


def pace_text(doc: dict[str, object], command: str) -> str:
    regs = doc["registers"]  # type: ignore[index]
    lines = [PACE[0], "", f"Measured {doc['date']} on {doc['machine']} by {command} (greedy plans; forecast P50 of "
             f"each area's release over {doc['runs']} runs, seed 1, default model, no progress; technical survey at "
             f"{doc['ts_rate']:,g} m² per survey team-day).", "",
             "| register | deminers (teams) | hazard areas (km²) | plan finish | planned km² in year 1 | "
             "planned km²/week in year 1 | planned mean km²/year | forecast P50 km² in year 1 | "
             "forecast P50 mean km²/year | planned km²/year per 1,000 deminers (year 1) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in regs.items():
        p, f = r["planned"], r["forecast_p50"]
        lines.append(f"| {name} | {r['deminers']:,} ({r['teams']}) | {r['hazard_areas']:,} ({r['hazard_km2']:,}) | "
                     f"{r['planned_finish']} | {p['first_year_km2']} | {p['first_year_km2_per_week']} | "
                     f"{p['mean_km2_per_year']} | {f['first_year_km2']} | {f['mean_km2_per_year']} | "
                     f"{p['first_year_km2'] / r['deminers'] * 1000:.1f} |")
    lines += ["", "Land released in the first year, by what released it (km²; planned / forecast P50):", "",
              "| register | " + " | ".join(WAYS.values()) + " |", "|---|" + "---|" * len(WAYS)]
    for name, r in regs.items():
        p, f = r["planned"]["by_way"], r["forecast_p50"]["by_way"]
        cells = [f"{p.get(w, {}).get('first_year_km2', 0.0)} / {f.get(w, {}).get('first_year_km2', 0.0)}"
                 for w in WAYS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    bih, kb = regs["bih-sized"], regs["kursk-border"]
    lo, hi = BIH_KM2_PER_YEAR
    plan_ts = _ts_and_clearance(bih["planned"])
    fc_ts = _ts_and_clearance(bih["forecast_p50"])
    wlo, whi = KURSK_HA_PER_WEEK
    kb_week = kb["planned"]["first_year_km2_per_week"]
    lines += ["", "Beside the anchors (DOMAIN.md):", "",
              f"- Bosnia and Herzegovina, ~2,500 deminers, {lo:g}–{hi:g} km² a year by clearance and technical survey "
              f"(BHMAC): the BiH-sized register's first year releases {plan_ts:.1f} km² by TS and clearance (BAC "
              f"included) as planned, {plan_ts / hi:.1f}–{plan_ts / lo:.1f} times BiH, and {fc_ts:.1f} km² at the "
              f"forecast's P50, {fc_ts / hi:.1f}–{fc_ts / lo:.1f} times; with what NTS cancels, "
              f"{bih['planned']['first_year_km2']:.1f} km² planned ({bih['planned']['first_year_km2'] / hi:.1f}–"
              f"{bih['planned']['first_year_km2'] / lo:.1f} times).",
              f"- Kursk, {wlo:,}–{whi:,} ha \"checked\" a week in summer 2025 (regional and state media, unverified): "
              f"{wlo / 100:g}–{whi / 100:g} km² a week, {wlo / 100 / kb_week:.0f}–{whi / 100 / kb_week:.0f} times "
              f"kursk-border's planned {kb_week} km² a week in its first year."]
    lines += ["", "Teams by method: " + "; ".join(
        f"{name}: " + ", ".join(f"{m} {n}" for m, n in r["teams_by_method"].items()) for name, r in regs.items()),
        "", PACE[1]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
