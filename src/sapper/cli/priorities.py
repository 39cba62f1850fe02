"""``sapper priorities``: hazard areas and assets by score, each criterion's contribution, and why the plan puts one
where it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sapper.cli._options import Db, settings
from sapper.cli._output import lines, tr, tr_n

if TYPE_CHECKING:
    from sapper.services.priorities import AreaExplanation, AssetExplanation, Ranked, WeightProfile


def _parts(r: Ranked) -> str:
    return " + ".join(f"{c.criterion} {c.value:.4f} ({c.raw} → {c.normalised:.3f} × {c.weight:g})"
                      for c in r.score.contributions)


def _named(p: WeightProfile) -> str:
    return f"{p.name} ({p.digest})"


def _plan_profile(e: AreaExplanation | AssetExplanation) -> str:
    if e.plan_profile is None:
        return tr("the default profile, which sapper plan uses unless given --profile")
    return tr("profile {profile}, which the latest plan was made with", profile=_named(e.plan_profile))


def _explanation(e: AreaExplanation | AssetExplanation) -> list[str]:
    from sapper.services.priorities import AreaExplanation

    r = e.ranked
    text = [tr("{id} ({label}): score {score} = {parts}", id=r.record_id, label=r.label,
               score=f"{r.score.value:.4f}", parts=_parts(r))]
    if isinstance(e, AreaExplanation):
        text.append(tr("plan weight of its release: {weight} (from its score {score} under {profile})",
                       weight=e.plan_weight, score=f"{e.plan_score:.4f}", profile=_plan_profile(e)))
        text.append(tr("priority of its survey and clearance lots: {priority} = own score {score} + the scores of the "
                       "assets it unlocks {unlocked}; rank {rank} of {areas} open areas in the planner's own order",
                       priority=f"{e.priority:.4f}", score=f"{e.plan_score:.4f}", unlocked=f"{e.unlocked:.4f}",
                       rank=e.priority_rank, areas=e.areas))
        if e.unlocks:
            text.append(tr_n("unlocks {n} asset (their work sites cross it):",
                             "unlocks {n} assets (their work sites cross it):", len(e.unlocks)))
            text += [tr("  {asset} {kind} score {score}  plan weight {weight}", asset=f"{u.asset_id:<14}",
                        kind=f"{u.asset_type:<11}", score=f"{u.score:.4f}", weight=u.plan_weight)
                     for u in e.unlocks]
        else:
            text.append(tr("unlocks no asset: it is planned for its own score"))
        done = tr("released {day}", day=e.released) if e.released else tr("not in the latest plan")
    else:
        text.append(tr("plan weight of its restoration: {weight} (from its score {score} under {profile})",
                       weight=e.plan_weight, score=f"{e.plan_score:.4f}", profile=_plan_profile(e)))
        if e.waits_for:
            unplanned = tr("not planned")
            text.append(tr("its repair waits for the release of: {areas}", areas=", ".join(
                f"{b.hazard_id} ({b.released or unplanned})" for b in e.waits_for)))
        else:
            text.append(tr("its repair waits for no hazard area"))
        done = tr("restored {day}", day=e.restored) if e.restored else tr("not in the latest plan")
    if e.plan_id is None:
        text.append(tr("no plan yet: run sapper plan"))
    else:
        text.append(tr("in plan {plan}: first lot in week {week}, {done}", plan=e.plan_id, week=e.week or "-",
                       done=done))
        text += [f"  {w.task_id:<28} {w.mode:<11} {w.unit_id:<14} {w.start} – {w.end}" for w in e.work]
    return text


def priorities(
    ctx: typer.Context,
    db: Db,
    profile: Annotated[Path | None, typer.Option("--profile", help="A weight profile (TOML); default: the "
                                                 "profile the latest plan was made with, else the built-in one.")
                       ] = None,
    record: Annotated[str | None, typer.Option("--explain", help="Explain one open hazard area or asset: its "
                                                "score, what it unlocks and its lots in the latest plan.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows per list (text and JSON); 0: all.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List hazard areas and assets by priority score with each criterion's contribution; or explain one."""
    from sapper.services import priorities as svc
    from sapper.services.register import open_register

    weights = svc.load_profile(profile) if profile is not None else None
    with open_register(settings(ctx, db=db)) as store:
        if record is not None:
            e = svc.explain(store, record, weights)
            if as_json:
                print(json.dumps(svc.explanation_document(e, weights), indent=1, ensure_ascii=False))
            else:
                lines(_explanation(e))
            return
        result = svc.priorities(store, weights)
    n = limit if limit > 0 else None
    if as_json:
        print(json.dumps(svc.priorities_document(result, limit=n), indent=1, ensure_ascii=False))
        return
    if result.plan_profile is None:
        made = tr("no plan yet")
    elif result.plan_profile.digest == result.profile.digest:
        made = tr("the latest plan was made with profile {profile}", profile=_named(result.plan_profile))
    else:
        made = tr("the latest plan was made with profile {profile} (other weights: its order differs)",
                  profile=_named(result.plan_profile))
    text = [tr("profile {profile}; {made}", profile=_named(result.profile), made=made),
            tr("hazard areas by score ({n} open):", n=len(result.hazards))]
    text += [f"  {r.record_id:<14} {r.score.value:.4f} = {_parts(r)}" for r in result.hazards[:n]]
    text.append(tr("assets by score ({n}):", n=len(result.assets)))
    text += [f"  {r.record_id:<14} {r.score.value:.4f} = {_parts(r)}" for r in result.assets[:n]]
    lines(text)
