"""The independent checker finds every kind of violation."""

from __future__ import annotations

from sapper.plan import Mode, Precedence, Problem, Resource, Schedule, Task, check, objective_value


def _problem() -> Problem:
    return Problem(
        (Resource("a", 1, ((10, 12, 1),)),),
        (
            Task("x", (Mode(3, ((0, 1),)),), weight=2),
            Task("y", (Mode(2, ((0, 1),)), Mode(5)), weight=1, release=1),
            Task("z", (Mode(0),), weight=10, deadline=8),
        ),
        (Precedence(0, 2, 1),),
        horizon=20,
    )


def test_feasible_schedule_passes_and_objective() -> None:
    """x [0,3), y [3,5), z at 4 (after x + lag 1): feasible; objective 2·3 + 1·5 + 10·4."""
    p = _problem()
    s = Schedule((0, 3, 4), (0, 0, 0))
    assert check(p, s) == []
    assert objective_value(p, s) == 2 * 3 + 1 * 5 + 10 * 4


def test_overlap_on_unit_resource_is_caught() -> None:
    """Two tasks on a one-unit pool at the same time."""
    faults = check(_problem(), Schedule((0, 1, 4), (0, 0, 0)))
    assert any("over capacity" in f.reason for f in faults)


def test_outage_is_capacity() -> None:
    """A task inside an outage span is over capacity."""
    faults = check(_problem(), Schedule((9, 0, 4), (0, 1, 12)))
    assert any("over capacity" in f.reason for f in faults)


def test_precedence_release_deadline_and_mode() -> None:
    """Lag broken, release broken, deadline broken, unknown mode: all reported."""
    p = _problem()
    faults = check(p, Schedule((0, 0, 3), (0, 0, 0)))
    reasons = " | ".join(f.reason for f in faults)
    assert "before predecessor" in reasons
    assert "before its release" in reasons
    faults = check(p, Schedule((0, 5, 9), (0, 3, 0)))
    reasons = " | ".join(f.reason for f in faults)
    assert "mode 3 does not exist" in reasons
    assert "after its deadline" in reasons
