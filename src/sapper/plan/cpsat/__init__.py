"""The OR-Tools CP-SAT backend: the only place in sapper that imports ortools."""

from sapper.plan.cpsat.backend import CpSatOutcome, solve_cpsat

__all__ = ["CpSatOutcome", "solve_cpsat"]
