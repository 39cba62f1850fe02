"""The forecast keeps the plan's money per calendar year: each Monte Carlo run re-schedules within the budgets (a lot
starts when its year's money is there), its schedule passes the independent checker with the budgets, and what it
spends in each year is within them."""

from __future__ import annotations

import dataclasses

import numpy as np

from sapper.forecast.inputs import TaskBudgets, TaskCosts, WorkKind
from sapper.forecast.montecarlo import ChunkSpec, make_job, run_chunk_job
from sapper.plan import Mode, PeriodBudget, Problem, Task, check
from sapper.plan.solution import Schedule

from .conftest import programme
from .test_montecarlo import _noisy

#: Periods per "year" of the small programme, the price of a working day and the money per year.
YEAR, PRICE, MONEY = 100, 100, 4000


def _priced(problem: Problem, kinds: np.ndarray) -> tuple[TaskCosts, TaskBudgets]:
    """Every work lot costs PRICE a working day from one budget of MONEY a year (YEAR periods)."""
    n = len(problem.tasks)
    work = kinds != int(WorkKind.MILESTONE)
    per_day = np.where(work, float(PRICE), 0.0)
    years = tuple(range(3000 // YEAR))
    costs = TaskCosts(per_day, np.zeros(n), np.zeros(n, dtype=np.bool_),
                      np.arange(len(years), dtype=np.int64) * YEAR, years)
    budgets = TaskBudgets(np.where(work, 0, -1).astype(np.int64), np.full((1, len(years)), float(MONEY)))
    return costs, budgets


def _checked_problem(problem: Problem, days: np.ndarray, horizon: int) -> Problem:
    """The run's own problem with the budget: the planned modes with the run's days, each work lot spending PRICE a
    period from one budget of MONEY per YEAR periods."""
    resources = tuple(dataclasses.replace(r, unavailable=tuple((s, min(e, horizon), u) for s, e, u in r.unavailable
                                                               if s < horizon)) for r in problem.resources)
    tasks = tuple(Task(t.name, (Mode(int(d), t.modes[0].demands, t.modes[0].name,
                                     costs=((0, PRICE),) if t.modes[0].duration else ()),))
                  for t, d in zip(problem.tasks, days, strict=True))
    windows = tuple((a, min(a + YEAR, horizon), MONEY) for a in range(0, horizon, YEAR))
    return Problem(resources, tasks, problem.precedences, horizon, budgets=(PeriodBudget("demining", windows),))


def test_every_run_keeps_the_budget_and_passes_the_checker() -> None:
    """Lots whole (no pausing, as the checker's intervals are): each run's schedule, with its days and the budget,
    passes plan.solution.check; its cost in every year is within the budget, and the budget delays the runs."""
    problem, tasks = programme()
    model = dataclasses.replace(_noisy(), pause_over_stand_down=False)
    costs, budgets = _priced(problem, tasks.kind)
    capped = make_job(problem, tasks, model, horizon=3000, costs=costs, budgets=budgets)
    free = make_job(problem, tasks, model, horizon=3000, costs=costs)
    spec = ChunkSpec(0, 40, np.random.SeedSequence(5))
    out = run_chunk_job(capped, spec, keep=True)
    loose = run_chunk_job(free, spec, keep=True)
    assert out.days is not None and out.starts is not None and out.cost_year is not None
    assert loose.days is not None and (loose.days == out.days).all()  # the same worlds
    # A run fails (beyond the horizon) only when one of its lots costs more than two years' money: it could not
    # be paid even across a New Year.
    dear = (out.days * PRICE > 2 * MONEY).any(axis=1)
    assert ((out.spans >= 3000) <= dear).all() and out.failed < 40
    for i in np.flatnonzero(out.spans < 3000):
        own = _checked_problem(problem, out.days[i], 3000)
        schedule = Schedule(tuple(int(x) for x in out.starts[i]), tasks.modes)
        assert check(own, schedule) == []
        assert max(schedule.ends(own)) == out.spans[i]
    assert (out.cost_year <= MONEY + 1e-6).all()
    ended = out.spans < 3000
    assert out.cost_total is not None and np.allclose(out.cost_year[ended].sum(axis=1), out.cost_total[ended])
    assert loose.cost_year is not None and (loose.cost_year.max(axis=1) > MONEY).all()  # without, it spends more
    assert out.spans[ended].mean() > loose.spans[ended].mean()  # the budget delays the runs


def test_pausing_runs_keep_the_budget_too() -> None:
    """With lots pausing over the winter stand-down (the default), every year's spending stays within the budget
    and, in every run that ends, the total is every lot's cost."""
    problem, tasks = programme()
    costs, budgets = _priced(problem, tasks.kind)
    job = make_job(problem, tasks, _noisy(), horizon=3000, costs=costs, budgets=budgets)
    out = run_chunk_job(job, ChunkSpec(0, 60, np.random.SeedSequence(11)), keep=True)
    assert out.cost_year is not None and out.days is not None
    assert (out.cost_year <= MONEY + 1e-6).all()
    work = tasks.kind != int(WorkKind.MILESTONE)
    done = out.spans < 3000
    assert done.sum() > 40
    assert np.allclose(out.cost_year[done].sum(axis=1), (out.days[done][:, work] * PRICE).sum(axis=1))
