"""Winter stand-down: no Monte Carlo run lets a lot work through its pool's stand-down, from the start or from
part-way with a lot running. By default a lot running when the winter comes pauses and resumes in the spring; with
the plan's own rule (``pause_over_stand_down=False``) a lot that no longer fits before the winter waits for the
spring."""

from __future__ import annotations

import numpy as np

from sapper.forecast import Conditions, ForecastTasks, UncertaintyModel, WorkKind
from sapper.forecast.model import Productivity
from sapper.forecast.montecarlo import ChunkResult, ChunkSpec, make_job, run_chunk_job
from sapper.plan import Mode, Problem, Resource, Task

WINTER = (20, 40)  # periods the manual pool stands down
HORIZON = 200


def _lots() -> tuple[Problem, ForecastTasks]:
    """Four manual lots of 5 planned days on a one-team pool standing down over WINTER: planned end to end, the
    fourth ends on day 20, just before the winter."""
    problem = Problem((Resource("manual", 1, ((WINTER[0], WINTER[1], 1),)),),
                      tuple(Task(f"clearance {k}", (Mode(5, ((0, 1),), "manual"),)) for k in range(4)), (), HORIZON)
    n = len(problem.tasks)
    tasks = ForecastTasks(
        kind=np.full(n, int(WorkKind.SURVEY), dtype=np.int64), group=np.zeros(n, dtype=np.int64),
        unit=np.zeros(n, dtype=np.int64), base_days=np.full(n, 5.0), hazard=np.zeros(n, dtype=np.int64),
        asset=np.full(n, -1, dtype=np.int64), groups=("manual",), units=1, hazard_class=(),
        planned_share=np.zeros(0), hazard_area_m2=np.zeros(0), released=np.zeros(0, dtype=np.int64),
        asset_class=(), restored=np.zeros(0, dtype=np.int64), modes=(0,) * n, order=np.arange(n, dtype=np.int64),
        weather_groups=frozenset({"manual"}))
    return problem, tasks


def _runs(conditions: Conditions | None = None, *, pause: bool = False) -> ChunkResult:
    """200 noisy runs of the lots (a wide productivity spread, so that some lots no longer fit before the winter)."""
    problem, tasks = _lots()
    model = UncertaintyModel(fallback=Productivity(-0.1, 0.4, 0.2, 0.5), productivity={},
                             pause_over_stand_down=pause)
    job = make_job(problem, tasks, model, horizon=HORIZON, conditions=conditions)
    out = run_chunk_job(job, ChunkSpec(0, 200, np.random.SeedSequence(4)), keep=True)
    assert out.days is not None and out.starts is not None and out.failed == 0
    return out


def _through_winter(out: ChunkResult) -> int:
    assert out.days is not None and out.starts is not None
    ends = out.starts + out.days
    return int(((out.starts < WINTER[1]) & (ends > WINTER[0])).sum())


def test_no_lot_works_through_the_stand_down() -> None:
    """In every run each lot ends before the winter or starts after it; some lots wait for the spring."""
    out = _runs()
    assert out.starts is not None
    assert _through_winter(out) == 0
    assert (out.starts >= WINTER[1]).any()  # a lot that no longer fitted before the winter waited
    assert (out.starts[:, 3] < WINTER[0]).any()  # ... and in faster runs the last lot fitted


def test_no_lot_works_through_the_stand_down_from_part_way() -> None:
    """From day 12 with the third lot running since day 10 (two lots done): no run works through the winter."""
    cond = Conditions(known=np.array([0, 1]), known_days=np.array([5, 5]),
                      earliest=np.array([0, 5, 10, 12], dtype=np.int64), running=np.array([2]),
                      running_days=np.array([2]))
    out = _runs(cond)
    assert out.days is not None
    assert (out.days[:, :2] == 5).all() and (out.days[:, 2] >= 3).all()
    assert _through_winter(out) == 0


def _ends_pausing(out: ChunkResult) -> np.ndarray:
    """Each lot's end when it pauses over the winter: its working days counted outside WINTER."""
    assert out.days is not None and out.starts is not None
    ends = out.starts + out.days
    crosses = (out.starts < WINTER[0]) & (ends > WINTER[0])
    return np.where(crosses, ends + (WINTER[1] - WINTER[0]), ends)


def test_a_running_lot_pauses_over_the_stand_down_and_resumes() -> None:
    """Pausing (the default): no lot starts in the winter; a lot running when it comes stops at its start and works
    the rest of its days after it, one lot at a time on the one team; the same worlds finish no later than with lots
    placed whole, and some earlier."""
    out = _runs(pause=True)
    whole = _runs(pause=False)
    assert out.days is not None and out.starts is not None and whole.days is not None
    assert ((out.starts < WINTER[0]) | (out.starts >= WINTER[1])).all()
    ends = _ends_pausing(out)
    paused = (out.starts < WINTER[0]) & (ends > WINTER[1])
    assert paused.any()
    order = np.argsort(out.starts, axis=1)
    s, e = np.take_along_axis(out.starts, order, 1), np.take_along_axis(ends, order, 1)
    assert (s[:, 1:] >= e[:, :-1]).all()  # one lot at a time
    assert (out.spans == ends.max(axis=1)).all()
    assert (out.days == whole.days).all()  # the same worlds
    assert (out.spans <= whole.spans).all() and (out.spans < whole.spans).any()


def test_a_lot_running_at_the_forecast_date_pauses_too() -> None:
    """From day 12 with the third lot running since day 10: the known days are kept, and no lot works in the
    winter."""
    cond = Conditions(known=np.array([0, 1]), known_days=np.array([5, 5]),
                      earliest=np.array([0, 5, 10, 12], dtype=np.int64), running=np.array([2]),
                      running_days=np.array([2]))
    out = _runs(cond, pause=True)
    assert out.days is not None and out.starts is not None
    assert (out.days[:, :2] == 5).all() and (out.days[:, 2] >= 3).all() and (out.starts[:, 2] == 10).all()
    ends = _ends_pausing(out)
    assert ((out.starts < WINTER[0]) | (out.starts >= WINTER[1])).all()
    assert (out.spans == ends.max(axis=1)).all()
