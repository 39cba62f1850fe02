"""The scheduling engine: a validated, index-based problem; ``solve()``; a self-checking schedule.

Only ``plan/cpsat`` imports OR-Tools. The rest (problem, checker, greedy baseline, lower bounds) is plain Python and
numpy, so every CP-SAT answer is verified by code that does not share the model.
"""

from sapper.plan.problem import Mode, Objective, PeriodBudget, Precedence, Problem, Resource, Task
from sapper.plan.solution import Schedule, check, check_units, objective_value, spending
from sapper.plan.solve import Engine, MovePolicy, Result, SolveParams, Status, solve

__all__ = [
    "Engine",
    "Mode",
    "MovePolicy",
    "Objective",
    "PeriodBudget",
    "Precedence",
    "Problem",
    "Resource",
    "Result",
    "Schedule",
    "SolveParams",
    "Status",
    "Task",
    "check",
    "check_units",
    "objective_value",
    "solve",
    "spending",
]
