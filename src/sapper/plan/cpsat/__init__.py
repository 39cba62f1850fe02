"""The OR-Tools CP-SAT backend: the only place in sapper that imports ortools."""

from sapper.plan.cpsat.backend import ORTOOLS_VERSION, CpSatOutcome, solve_cpsat, solve_fewest_moves

__all__ = ["ORTOOLS_VERSION", "CpSatOutcome", "solve_cpsat", "solve_fewest_moves"]
