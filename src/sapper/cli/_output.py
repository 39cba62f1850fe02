"""Printing for every command: results on standard output, progress and errors on standard error.

Piped output stays one record a line (``soft_wrap``); text from records is printed as is (no Rich markup or
highlighting), so a hazard name with brackets cannot change the output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from sapper.messages import Msg, phrases
from sapper.report.i18n import Lang, Speaker

if TYPE_CHECKING:
    from sapper.services.planning import PlanSummary
    from sapper.services.replan import ReplanSummary
    from sapper.services.utilisation import Utilisation

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def say(msg: str) -> None:
    """A progress line on standard error: ``… msg`` (a message said in the run's language)."""
    err.print(f"[dim]… {escape(localise(msg))}[/dim]")


def lines(text: Iterable[str]) -> None:
    """Each line on standard output, as is."""
    for line in text:
        out.print(localise(line), markup=False, highlight=False)


def error_line(text: str) -> None:
    """One line on standard error, as is (a message translated)."""
    err.print(localise(text), markup=False, highlight=False)


def counts(values: Mapping[str, object], *, width: int) -> None:
    """``key: value`` lines, keys right-aligned to ``width``."""
    for k, v in values.items():
        out.print(f"{k:>{width}}: {v}")


class Spinner:
    """A status spinner on a terminal; a plain progress line otherwise (CI logs stay clean)."""

    def __init__(self, msg: str) -> None:
        self.msg = localise(msg)
        self.status: Any = None

    def __enter__(self) -> None:
        if err.is_terminal:
            self.status = err.status(self.msg)
            self.status.__enter__()
        else:
            err.print(f"[dim]… {escape(self.msg)}[/dim]")

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
        return tr("— this plan is the same")
    if pct == 0:  # a difference below the rounding of the percentage
        diff = _fmt(abs(s.baseline_objective - s.objective))
        if s.objective < s.baseline_objective:
            return tr("— this plan is {diff} lower (better), under 0.01 %", diff=diff)
        return tr("— this plan is {diff} higher, under 0.01 %", diff=diff)
    if pct > 0:
        return tr("— this plan is {pct} % lower (better)", pct=f"{pct:g}")
    c = r.counts if r is not None else None
    if c is not None and c.anchored_moved is not None and c.repair_moved > c.anchored_moved:
        return tr("— this plan is {pct} % higher because it keeps more lots where they were: it moves {moved} lots "
                  "where the repaired plan moves {repaired} (stability first, --moves fewest)",
                  pct=f"{-pct:g}", moved=c.anchored_moved, repaired=c.repair_moved)
    return tr("— this plan is {pct} % higher: the optimiser kept lots in place the move cost protects", pct=f"{-pct:g}")


def plan_summary(s: PlanSummary) -> None:
    """A plan's (or re-plan's) summary as aligned text: status, objective, baseline, bound, dates, progress."""
    if s.synthetic:
        synthetic = tr("SYNTHETIC scenario: hazards, assets and workforce split are generated.")
        out.print(f"[bold yellow]{escape(synthetic)}[/bold yellow]")
    lines([tr("plan status      : {status} ({engine}, {seconds} s, {tasks} tasks)", status=s.status.value,
             engine=s.engine, seconds=s.solve_seconds, tasks=s.task_count)])
    r = s.replan
    if r is not None and r.move_cost_total is not None:  # the objective includes the moves, the baseline is repaired
        lines([tr("objective        : {objective}  (priority-weighted completion {completion} + move cost {moves})",
                 objective=_fmt(s.objective), completion=_fmt(r.weighted_completion), moves=_fmt(r.move_cost_total)),
              tr("compared with    : {baseline}  ({meaning}) {verdict}", baseline=_fmt(s.baseline_objective),
                 meaning=phrases(r.baseline_meaning), verdict=_against(s, r))])
    else:
        lines([tr("objective        : {objective}  (priority-weighted completion: Σ weight × working day)",
                 objective=_fmt(s.objective)),
              tr("greedy baseline  : {baseline}  (the priority-list plan a planner makes by hand) {verdict}",
                 baseline=_fmt(s.baseline_objective), verdict=_against(s, None))])
    lines([tr("lower bound      : {bound}  (gap {gap} %)", bound=_fmt(s.lower_bound), gap=s.gap_pct),
          tr("start → finish   : {start} → {finish}", start=s.start_date.isoformat(),
             finish=s.finish_date.isoformat() if s.finish_date else None),
          tr("by date          :  hazard area released      critical assets restored")])
    for p in s.progress:
        out.print(f"  {p.date.isoformat()}     : {p.hazard_area_released_km2:>8} km² ({p.hazard_area_released_pct} %)"
                  f"      {p.critical_assets_restored_pct} %")
    if s.utilisation is not None:
        unit_use(s.utilisation)


#: Idle units named by the summary before "and N more".
IDLE_NAMED = 12


def unit_use(u: Utilisation) -> None:
    """Utilisation per role (units, borrowed, working days, share of the kind's days) and the idle units named."""
    lines([tr("use of units     : {pools} pools; idle means {weeks} weeks or more in a row without work",
              pools=u.pools, weeks=u.idle_weeks)])
    for r in u.roles:
        lines([tr("  {kind} {role}: {units} units ({borrowed} in a borrowed role), {days} working days, {share} % of "
                  "the {kind} days", kind=kind_label(r.kind), role=role_label(r.role), units=r.units,
                  borrowed=r.borrowed_by, days=f"{r.working_days:,}", share=r.share_pct)])
    idle = u.idle
    named = ", ".join(tr("{unit} ({days} days from {first})", unit=x.unit_id, days=x.longest_idle_days,
                         first=x.idle_from.isoformat() if x.idle_from else "") for x in idle[:IDLE_NAMED])
    if len(idle) > IDLE_NAMED:
        named += " " + tr_n("and {n} more", "and {n} more", len(idle) - IDLE_NAMED)
    lines([tr_n("{n} unit idle {weeks} weeks or more: {names}", "{n} units idle {weeks} weeks or more: {names}",
                len(idle), weeks=u.idle_weeks, names=named or "—")])

# ----------------------------------------------------------------------------------------------------
# Language: the command line's own messages through the catalogues (SAPPER_LANG / sapper --lang)
# ----------------------------------------------------------------------------------------------------


class _Voice:
    """The run's language, chosen once by the app's callback (English until then: usage errors, ``--help``)."""

    speaker: Speaker | None = None


def use_language(lang: Lang) -> None:
    """Say every later message in ``lang`` (the command-line library's words too: usage errors, ``--help``)."""
    from sapper.cli._library import speak

    _Voice.speaker = None if lang is Lang.EN else Speaker(lang)
    speak(lang)


def language() -> Lang:
    """The run's language (``sapper --lang`` or ``SAPPER_LANG``)."""
    return Lang.EN if _Voice.speaker is None else _Voice.speaker.lang


def localise(text: object) -> str:
    """``text`` in the run's language when it is a :class:`~sapper.messages.Msg`; other text as it is."""
    sp = _Voice.speaker
    if sp is None or not isinstance(text, Msg):
        return str(text)
    return text.translated(sp._, sp.n_)


def role_label(code: str) -> str:
    """A method's or trade's code (``manual``, ``road``) as the reports name it, in the run's language; the code
    itself in English (what a user types in options and files)."""
    from sapper.report.gantt import role_name

    sp = _Voice.speaker
    return code if sp is None else role_name(sp, code)


def kind_label(code: str) -> str:
    """``deminers`` or ``builders`` (a pool's kind) in the run's language."""
    words = {"deminers": tr("deminers"), "builders": tr("builders")}
    return words.get(code, code)


def asset_label(code: str) -> str:
    """An asset type's code (``power_line``) as the reports name it, in the run's language; the code in English."""
    from sapper.report.taskorders import coded_word

    sp = _Voice.speaker
    return code if sp is None else coded_word(sp, "asset", code)


def tr(template: str, /, **params: object) -> str:
    """A message of the command line itself, in the run's language."""
    return localise(Msg(template, **params))


def tr_n(singular: str, plural: str, n: int, /, **params: object) -> str:
    """A message with a count ``n`` (``{n}``), in the run's language (the language's plural forms)."""
    return localise(Msg(singular, plural, n=n, **params))
