"""Small planning problems built in code."""

from __future__ import annotations

import random

import pytest

from sapper.plan import Mode, Precedence, Problem, Resource, Task


def random_problem(seed: int, n: int = 7, *, multi_mode: bool = True, horizon: int = 200) -> Problem:
    """A random multi-mode problem: two pools (one with an outage), a few precedences, weights 0–5."""
    rng = random.Random(seed)
    resources = (Resource("a", 2, ((5, 9, 2),)), Resource("b", 1))
    tasks = []
    for j in range(n):
        if multi_mode and j % 2:
            modes = (Mode(rng.randint(1, 6), ((0, 1),), "a"), Mode(rng.randint(1, 6), ((1, 1),), "b"))
        else:
            modes = (Mode(rng.randint(1, 5), ((0, rng.randint(1, 2)),), "a"),)
        tasks.append(Task(f"t{j}", modes, weight=rng.randint(0, 5), release=rng.choice((0, 0, 3))))
    precedences = tuple(Precedence(i, j, rng.choice((0, 0, 1))) for j in range(n) for i in range(j)
                        if rng.random() < 0.15)
    return Problem(resources, tuple(tasks), precedences, horizon)


@pytest.fixture
def small_problem() -> Problem:
    return random_problem(3)
