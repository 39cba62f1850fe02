"""The problem validates itself and reports every fault at once."""

from __future__ import annotations

import pytest

from sapper.errors import ValidationError
from sapper.plan import Mode, Precedence, Problem, Resource, Task


def test_every_fault_reported() -> None:
    """Unknown resource, over-capacity demand, negative weight and a bad precedence, in one error."""
    with pytest.raises(ValidationError) as info:
        Problem(
            (Resource("a", 2),),
            (Task("x", (Mode(3, ((1, 1),)),)), Task("y", (Mode(2, ((0, 5),)),), weight=-1)),
            (Precedence(0, 7),),
            horizon=10,
        )
    text = str(info.value)
    assert "unknown resource 1" in text
    assert "needs 5 of a" in text
    assert "weight cannot be negative" in text
    assert "does not exist" in text


def test_cycle_refused() -> None:
    """A precedence cycle is refused."""
    tasks = (Task("x", (Mode(1),)), Task("y", (Mode(1),)))
    with pytest.raises(ValidationError, match="cycle"):
        Problem((), tasks, (Precedence(0, 1), Precedence(1, 0)), horizon=10)


def test_replace_revalidates() -> None:
    """A what-if copy is validated again."""
    p = Problem((Resource("a", 2),), (Task("x", (Mode(3, ((0, 2),)),)),), (), horizon=10)
    assert p.replace(horizon=20).horizon == 20
    with pytest.raises(ValidationError, match="horizon"):
        p.replace(horizon=2)


def test_capacity_profile_subtracts_outages() -> None:
    """Unavailable spans reduce capacity in their periods only."""
    p = Problem((Resource("a", 3, ((2, 4, 2),)),), (), (), horizon=6)
    assert p.capacity_profile(0) == [3, 3, 1, 1, 3, 3]
