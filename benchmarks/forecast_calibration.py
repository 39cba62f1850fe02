"""Benchmark: are the forecast's intervals honest? Coverage, pinball loss and PIT over independent hidden worlds.

    .venv/bin/python benchmarks/forecast_calibration.py [--worlds 200] [--runs 500] [--seed 13]
                                                         [--write docs/benchmarks.md]

Each world is a kursk-border-like region scaled down so that 200 worlds fit in minutes on 2 cores (drawn by this
script; synthetic): 36 hazard areas (sizes lognormal around the BiH median of about 40,000 m², a quarter CHA), 18
damaged assets whose repair waits for the release of one or two areas, pools of survey, manual, dog and mechanical
teams and road, building and power brigades, a winter stand-down of the demining pools. The plan is the serial
scheme's plan in priority order, with planned durations.

The truth of a world (its programme's real productivity per method and trade, each team's, each lot's, each area's
share left for clearance, damage, weather and accidents) is drawn once and kept hidden, from a distribution WIDER
than the forecast's prior (every log-sd 1.4 times, the survey-outcome Beta half as concentrated, weather 1.5 times as
variable); its outcome is the plan's order re-scheduled with the true durations by the forecast's own serial scheme,
a lot running when its pool stands down pausing over the winter and resuming after it, as the forecast assumes
(``UncertaintyModel.pause_over_stand_down``; before that assumption the truth placed lots whole, as the plan does).
The forecast sees the plan, and at 4 and 8 weeks the progress the truth produced by then: pace reports per team (work
done and days worked, the days standing still for weather or an accident left out, as a daily report comes from a day
worked) and the outcome of every survey finished; work finished is known, work running keeps its start. Measured
against the truth: coverage of P50 and P80 (share of worlds finishing on or before them) for the region's completion
and each asset's restoration, pinball loss (working days, mean over P10/P50/P80/P90), the PIT histogram (where the
truth falls in the forecast's distribution; flat is honest) and the mean P10–P90 width. The naive forecast —
independent durations with the same per-task variance, no programme, team or class-wide factor — is run on the same
worlds and progress. """

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine, write_section

from sapper.domain.hazards import Evidence, HazardClass
from sapper.forecast import (
    Conditions,
    ForecastTasks,
    PaceReport,
    SurveyReport,
    UncertaintyModel,
    WorkKind,
    learn,
    run_forecast,
    sample_worlds,
)
from sapper.forecast.model import Productivity, Spread, SurveyOutcome, Weather
from sapper.forecast.montecarlo import ChunkResult, ChunkSpec, make_job, run_chunk_job
from sapper.plan import Mode, Precedence, Problem, Resource, Task
from sapper.plan.evolve import activity_list, decode

BEGIN, END = "<!-- forecast-calibration:begin -->", "<!-- forecast-calibration:end -->"
RESULTS = Path(__file__).parent / "results" / "forecast_calibration.json"
SHA = (HazardClass.SHA, Evidence.INDIRECT)
CHA = (HazardClass.CHA, Evidence.DIRECT)
#: (group, pool size, m² or builder-days per unit-day)
POOLS = (("survey", 3, 5000.0), ("manual", 4, 300.0), ("dog", 2, 850.0), ("mechanical", 1, 5000.0),
         ("road", 2, 10.0), ("building", 2, 10.0), ("power", 1, 8.0))
DEMINING = frozenset({"survey", "manual", "dog", "mechanical"})
LEVELS = (0.1, 0.5, 0.8, 0.9)
STAGES = (0, 4, 8)  # weeks of progress seen
HORIZON = 4000


def region(rng: np.random.Generator) -> tuple[Problem, ForecastTasks]:
    """A scaled-down kursk-border-like region and its plan (see the module docstring)."""
    groups = tuple(p[0] for p in POOLS)
    winter = tuple((s, s + 80, 0) for s in range(150, HORIZON, 300))  # units filled in per pool below
    resources = tuple(Resource(name, size, tuple((s, min(e, HORIZON), size) for s, e, _ in winter)
                               if name in DEMINING else ()) for name, size, _ in POOLS)
    unit_base = np.cumsum([0] + [size for _, size, _ in POOLS])
    tasks: list[Task] = []
    rows: list[tuple[int, int, int, float, int, int]] = []  # kind, group, unit, base days, hazard, asset
    prec: list[Precedence] = []
    prio: list[float] = []
    classes, shares, areas, released = [], [], [], []
    n_h, n_a = 36, 18

    def add(name: str, g: int, days: float, kind: WorkKind, h: int, a: int, p: float) -> int:
        d = math.ceil(days) if g >= 0 else 0
        mode = Mode(d, ((g, 1),), groups[g]) if g >= 0 else Mode(0)
        tasks.append(Task(name, (mode,)))
        unit = int(unit_base[g] + rng.integers(POOLS[g][1])) if g >= 0 else -1
        rows.append((int(kind), g, unit, float(d), h, a))
        prio.append(p)
        return len(tasks) - 1

    for h in range(n_h):
        cha = rng.random() < 0.25
        area = float(np.clip(rng.lognormal(math.log(40_000), 1.0), 2_000, 400_000))
        share = 0.35 if cha else 0.05
        p = float(rng.random())
        s = add(f"survey {h}", 0, area / 5000.0, WorkKind.SURVEY, h, -1, p)
        method = int(rng.choice([1, 2, 3], p=[0.6, 0.25, 0.15]))
        clear_days = area * share / POOLS[method][2]
        lots = max(1, math.ceil(clear_days / 40))
        clear = [add(f"clearance {h}/{k}", method, clear_days / lots, WorkKind.CLEARANCE, h, -1, p)
                 for k in range(lots)]
        prec += [Precedence(s, j) for j in clear]
        r = add(f"released {h}", -1, 0, WorkKind.MILESTONE, h, -1, p)
        prec += [Precedence(j, r) for j in clear]
        classes.append(CHA if cha else SHA)
        shares.append(share)
        areas.append(area)
        released.append(r)
    restored, kinds = [], []
    for a in range(n_a):
        trade = int(rng.choice([4, 5, 6]))
        work = float(rng.lognormal(math.log(150), 0.7))
        p = float(rng.random()) * 2
        lots = max(1, math.ceil(work / 10 / 40))
        reps = [add(f"repair {a}/{k}", trade, work / 10 / lots, WorkKind.REPAIR, -1, a, p) for k in range(lots)]
        for h in rng.choice(n_h, size=int(rng.integers(1, 3)), replace=False):
            prec += [Precedence(released[int(h)], j) for j in reps]
        m = add(f"restored {a}", -1, 0, WorkKind.MILESTONE, -1, a, p)
        prec += [Precedence(j, m) for j in reps]
        restored.append(m)
        kinds.append(groups[trade])
    problem = Problem(resources, tuple(tasks), tuple(prec), HORIZON)
    modes = (0,) * len(tasks)
    plan = decode(problem, activity_list(problem, -np.array(prio)).tolist(), modes, improve=False)
    assert plan is not None
    arr = np.array(rows, dtype=float)
    return problem, ForecastTasks(
        kind=arr[:, 0].astype(np.int64), group=arr[:, 1].astype(np.int64), unit=arr[:, 2].astype(np.int64),
        base_days=arr[:, 3], hazard=arr[:, 4].astype(np.int64), asset=arr[:, 5].astype(np.int64), groups=groups,
        units=int(unit_base[-1]), hazard_class=tuple(classes), planned_share=np.array(shares),
        hazard_area_m2=np.array(areas), released=np.array(released, dtype=np.int64), asset_class=tuple(kinds),
        restored=np.array(restored, dtype=np.int64), modes=modes,
        order=activity_list(problem, np.array(plan.starts, dtype=float)), weather_groups=DEMINING)


def wider(model: UncertaintyModel) -> UncertaintyModel:
    """The truth's distribution: every log-sd 1.4 times the prior's assumed one, survey outcomes half as concentrated.
    A world's spreads are what they are: the model's uncertainty about its own spreads (``Spread``) is the
    forecaster's, not the world's, so the truth has none (its worlds are the same as before the model had it)."""
    def w(p: Productivity) -> Productivity:
        return Productivity(p.mean, p.sd * 1.4, p.unit_sd * 1.4, p.day_sd * 1.4)
    return dataclasses.replace(
        model, productivity={g: w(p) for g, p in model.productivity.items()}, fallback=w(model.fallback),
        survey={c: SurveyOutcome(o.alpha / 2, o.beta / 2, o.area_sd * 1.4) for c, o in model.survey.items()},
        survey_prior=model.survey, weather=Weather(model.weather.days_per_year, model.weather.shape / 1.5),
        damage=dataclasses.replace(model.damage, sd=model.damage.sd * 1.4), spread=Spread(1.0, 0.0))


def progress(tasks: ForecastTasks, truth_days: np.ndarray, truth_starts: np.ndarray, stood: np.ndarray,
             share: np.ndarray, week: int) -> tuple[Conditions, list[PaceReport], list[SurveyReport]]:
    """What the field has reported by ``week`` (6-day weeks) of the true schedule: daily reports come from days
    worked, so a lot's days standing still (weather, accidents; spread evenly over it) are not in its pace."""
    n = len(tasks.kind)
    now = 6 * week
    ends = truth_starts + truth_days
    work = tasks.kind != WorkKind.MILESTONE
    done = np.flatnonzero((ends <= now) & (truth_starts < now))
    running = np.flatnonzero(work & (truth_starts < now) & (ends > now))
    earliest = np.full(n, now, dtype=np.int64)
    started = np.concatenate([done, running])
    earliest[started] = truth_starts[started]
    by_unit: dict[tuple[int, int], list[float]] = {}
    for j in np.flatnonzero(work & (truth_starts < now) & (tasks.base_days > 0)).tolist():
        days = min(now, ends[j]) - truth_starts[j]
        if days <= 0:
            continue
        factor = share[tasks.hazard[j]] / tasks.planned_share[tasks.hazard[j]] \
            if tasks.kind[j] == WorkKind.CLEARANCE else 1.0
        done_work = tasks.base_days[j] * factor * days / truth_days[j]
        worked = days * (1.0 - stood[j] / truth_days[j])
        if worked <= 0:
            continue
        acc = by_unit.setdefault((int(tasks.group[j]), int(tasks.unit[j])), [0.0, 0.0])
        acc[0] += done_work
        acc[1] += worked
    pace = [PaceReport(tasks.groups[g], w, d, 1.0) for (g, _), (w, d) in by_unit.items() if w > 0]
    surveyed = [h for h in range(len(tasks.hazard_class)) if any(
        ends[j] <= now for j in np.flatnonzero((tasks.kind == WorkKind.SURVEY) & (tasks.hazard == h)).tolist())]
    surveys = [SurveyReport(tasks.hazard_class[h], 1.0, float(share[h])) for h in surveyed]
    cond = Conditions(known=done[work[done]], known_days=truth_days[done[work[done]]], earliest=earliest,
                      running=running, running_days=(now - truth_starts[running]).astype(np.int64))
    return cond, pace, surveys


def pinball(truth: float, q: dict[float, float]) -> float:
    return float(np.mean([max(t * (truth - q[t]), (t - 1) * (truth - q[t])) for t in LEVELS]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=200)
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    prior = UncertaintyModel()
    truth_model = wider(prior)
    models = {"correlated": prior, "naive": dataclasses.replace(prior, independent=True)}
    rec: dict[str, dict[int, dict[str, list[float]]]] = {
        m: {w: {"p50": [], "p80": [], "a50": [], "a80": [], "pin": [], "pit": [], "width": []} for w in STAGES}
        for m in models}
    for world in range(args.worlds):
        rng = np.random.default_rng([args.seed, world])
        problem, tasks = region(rng)
        hidden = np.random.default_rng([args.seed, world, 1])
        true = sample_worlds(tasks, truth_model, 1, hidden, horizon=HORIZON)
        out = _schedule(problem, tasks, truth_model, true.durations[0])
        if out.failed:
            print(f"world {world}: truth past the horizon, skipped", file=sys.stderr)
            continue
        assert out.starts is not None and out.days is not None
        t_starts, t_days = out.starts[0], out.days[0]
        t_finish = float(out.spans[0])
        t_assets = out.restored_end[0].astype(float)
        for week in STAGES:
            cond, pace, surveys = (progress(tasks, t_days, t_starts, true.stood[0], true.shares[0], week) if week
                                   else (None, [], []))
            for name, base in models.items():
                model = learn(base, pace, surveys)
                f = run_forecast(problem, tasks, model, runs=args.runs, rng=np.random.default_rng([args.seed, world,
                                 week, 2]), horizon=HORIZON, conditions=cond)
                q = dict(zip(LEVELS, (f.overall.p10, f.overall.p50, f.overall.p80, f.overall.p90), strict=True))
                r = rec[name][week]
                r["p50"].append(float(t_finish <= q[0.5]))
                r["p80"].append(float(t_finish <= q[0.8]))
                r["pin"].append(pinball(t_finish, q))
                r["pit"].append(float(np.mean(f.makespans <= t_finish)))
                r["width"].append(float(q[0.9] - q[0.1]))
                for a, p in enumerate(f.restored):
                    r["a50"].append(float(t_assets[a] <= p.p50))
                    r["a80"].append(float(t_assets[a] <= p.p80))
        if world % 20 == 19:
            print(f"{world + 1} worlds, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    summary: dict[str, Any] = {}
    for name in models:
        summary[name] = {}
        for week in STAGES:
            r = rec[name][week]
            hist = np.histogram(r["pit"], bins=10, range=(0, 1))[0].tolist()
            summary[name][f"week_{week}"] = {
                "worlds": len(r["p50"]), "overall_p50_coverage": round(float(np.mean(r["p50"])), 3),
                "overall_p80_coverage": round(float(np.mean(r["p80"])), 3),
                "asset_p50_coverage": round(float(np.mean(r["a50"])), 3),
                "asset_p80_coverage": round(float(np.mean(r["a80"])), 3),
                "pinball_days": round(float(np.mean(r["pin"])), 2),
                "p10_p90_width_days": round(float(np.mean(r["width"])), 1), "pit_histogram": hist}
    seconds = time.perf_counter() - t0
    doc = {"command": f"python benchmarks/forecast_calibration.py --worlds {args.worlds} --runs {args.runs} "
                      f"--seed {args.seed}", "date": dt.date.today().isoformat(), "machine": machine(),
           "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
           "seconds": round(seconds, 1), "results": summary}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc, indent=1))
    if args.write:
        lines = [BEGIN, f"`{doc['command']}` — {doc['date']}, {doc['machine']}, {seconds / 60:.1f} min (load "
                 f"average at the end {doc['load_average_at_end']}). Synthetic "
                 "scaled-down worlds (see the script's docstring); truth drawn from a wider distribution than the "
                 "prior. Targets: P80 coverage 0.75–0.85, P50 0.45–0.55.", "",
                 "| forecast | progress seen | worlds | overall P50 cov. | overall P80 cov. | asset P50 cov. | "
                 "asset P80 cov. | pinball (days) | P10–P90 width (days) | PIT histogram (10 bins) |",
                 "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        for name in models:
            for week in STAGES:
                s = summary[name][f"week_{week}"]
                lines.append(f"| {name} | {week} weeks | {s['worlds']} | {s['overall_p50_coverage']} | "
                             f"{s['overall_p80_coverage']} | {s['asset_p50_coverage']} | {s['asset_p80_coverage']} | "
                             f"{s['pinball_days']} | {s['p10_p90_width_days']} | "
                             f"{' '.join(str(x) for x in s['pit_histogram'])} |")
        lines.append(END)
        write_section(args.write, BEGIN, END, "\n".join(lines), "## Forecast calibration: coverage over hidden worlds")


def _schedule(problem: Problem, tasks: ForecastTasks, model: UncertaintyModel, days: np.ndarray) -> ChunkResult:
    """The plan's order scheduled once with ``days`` (every task's, known) by the forecast's kernel under ``model``'s
    rules (lots pausing over a stand-down)."""
    n = len(tasks.kind)
    known = Conditions(known=np.arange(n), known_days=np.asarray(days, dtype=np.int64),
                       earliest=np.zeros(n, dtype=np.int64))
    job = make_job(problem, tasks, model, horizon=HORIZON, conditions=known)
    return run_chunk_job(job, ChunkSpec(0, 1, np.random.SeedSequence(0)), keep=True)


if __name__ == "__main__":
    main()
