"""Printing for every command: results on standard output, progress and errors on standard error.

Piped output stays one record a line (``soft_wrap``); text from records is printed as is (no Rich markup or
highlighting), so a hazard name with brackets cannot change the output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from sapper.services.planning import PlanSummary
    from sapper.services.replan import ReplanSummary

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def say(msg: str) -> None:
    """A progress line on standard error: ``… msg``."""
    err.print(f"[dim]… {msg}[/dim]")


def lines(text: Iterable[str]) -> None:
    """Each line on standard output, as is."""
    for line in text:
        out.print(line, markup=False, highlight=False)


def error_line(text: str) -> None:
    """One line on standard error, as is."""
    err.print(text, markup=False, highlight=False)


def counts(values: Mapping[str, object], *, width: int) -> None:
    """``key: value`` lines, keys right-aligned to ``width``."""
    for k, v in values.items():
        out.print(f"{k:>{width}}: {v}")


class Spinner:
    """A status spinner on a terminal; a plain progress line otherwise (CI logs stay clean)."""

    def __init__(self, msg: str) -> None:
        self.msg = msg
        self.status: Any = None

    def __enter__(self) -> None:
        if err.is_terminal:
            self.status = err.status(self.msg)
            self.status.__enter__()
        else:
            say(self.msg)

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)


def _fmt(x: object) -> str:
    return f"{x:,.0f}" if isinstance(x, int | float) else str(x)


def _against(s: PlanSummary, r: ReplanSummary | None) -> str:
    """How the plan compares with its baseline, in words that cannot be read as the optimiser making things worse: a
    re-plan that keeps more lots in place than the repaired previous plan may complete later, by choice."""
    pct = s.improvement_over_baseline_pct
    if pct is None or s.objective is None or s.baseline_objective is None:
        return ""
    if s.objective == s.baseline_objective:
        return "— this plan is the same"
    if pct == 0:  # a difference below the rounding of the percentage
        lower = s.objective < s.baseline_objective
        return (f"— this plan is {_fmt(abs(s.baseline_objective - s.objective))} "
                f"{'lower (better)' if lower else 'higher'}, under 0.01 %")
    if pct > 0:
        return f"— this plan is {pct:g} % lower (better)"
    c = r.counts if r is not None else None
    if c is not None and c.anchored_moved is not None and c.repair_moved > c.anchored_moved:
        return (f"— this plan is {-pct:g} % higher because it keeps more lots where they were: it moves "
                f"{c.anchored_moved} lots where the repaired plan moves {c.repair_moved} (stability first, "
                "--moves fewest)")
    return f"— this plan is {-pct:g} % higher: the optimiser kept lots in place the move cost protects"


def plan_summary(s: PlanSummary) -> None:
    """A plan's (or re-plan's) summary as aligned text: status, objective, baseline, bound, dates, progress."""
    if s.synthetic:
        out.print("[bold yellow]SYNTHETIC scenario: hazards, assets and workforce split are generated.[/bold yellow]")
    out.print(f"plan status      : {s.status.value} ({s.engine}, {s.solve_seconds} s, {s.task_count} tasks)")
    r = s.replan
    if r is not None and r.move_cost_total is not None:  # the objective includes the moves, the baseline is repaired
        out.print(f"objective        : {_fmt(s.objective)}  (priority-weighted completion "
                  f"{_fmt(r.weighted_completion)} + move cost {_fmt(r.move_cost_total)})")
        out.print(f"compared with    : {_fmt(s.baseline_objective)}  ({r.baseline_meaning}) "
                  f"{_against(s, r)}")
    else:
        out.print(f"objective        : {_fmt(s.objective)}  (priority-weighted completion: Σ weight × working day)")
        out.print(f"greedy baseline  : {_fmt(s.baseline_objective)}  (the priority-list plan a planner makes by hand) "
                  f"{_against(s, None)}")
    out.print(f"lower bound      : {_fmt(s.lower_bound)}  (gap {s.gap_pct} %)")
    out.print(f"start → finish   : {s.start_date.isoformat()} → {s.finish_date.isoformat() if s.finish_date else None}")
    out.print("by date          :  hazard area released      critical assets restored")
    for p in s.progress:
        out.print(f"  {p.date.isoformat()}     : {p.hazard_area_released_km2:>8} km² ({p.hazard_area_released_pct} %)"
                  f"      {p.critical_assets_restored_pct} %")
