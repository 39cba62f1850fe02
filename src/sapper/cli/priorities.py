"""``sapper priorities``: hazard areas and assets by score, each criterion's contribution, and why the plan puts one
where it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sapper.cli._options import Db, settings
from sapper.cli._output import lines

if TYPE_CHECKING:
    from sapper.services.priorities import AreaExplanation, AssetExplanation, Ranked, WeightProfile


def _parts(r: Ranked) -> str:
    return " + ".join(f"{c.criterion} {c.value:.4f} ({c.raw} → {c.normalised:.3f} × {c.weight:g})"
                      for c in r.score.contributions)


def _named(p: WeightProfile) -> str:
    return f"{p.name} ({p.digest})"


def _plan_profile(e: AreaExplanation | AssetExplanation) -> str:
    if e.plan_profile is None:
        return "the default profile, which sapper plan uses unless given --profile"
    return f"profile {_named(e.plan_profile)}, which the latest plan was made with"


def _explanation(e: AreaExplanation | AssetExplanation) -> list[str]:
    from sapper.services.priorities import AreaExplanation

    r = e.ranked
    text = [f"{r.record_id} ({r.label}): score {r.score.value:.4f} = {_parts(r)}"]
    if isinstance(e, AreaExplanation):
        text.append(f"plan weight of its release: {e.plan_weight} (from its score {e.plan_score:.4f} under "
                    f"{_plan_profile(e)})")
        text.append(f"priority of its survey and clearance lots: {e.priority:.4f} = own score {e.plan_score:.4f} + "
                    f"the scores of the assets it unlocks {e.unlocked:.4f}; rank {e.priority_rank} of {e.areas} "
                    "open areas in the planner's own order")
        if e.unlocks:
            text.append(f"unlocks {len(e.unlocks)} assets (their work sites cross it):")
            text += [f"  {u.asset_id:<14} {u.asset_type:<11} score {u.score:.4f}  plan weight {u.plan_weight}"
                     for u in e.unlocks]
        else:
            text.append("unlocks no asset: it is planned for its own score")
        done = f"released {e.released}" if e.released else "not in the latest plan"
    else:
        text.append(f"plan weight of its restoration: {e.plan_weight} (from its score {e.plan_score:.4f} under "
                    f"{_plan_profile(e)})")
        if e.waits_for:
            text.append("its repair waits for the release of: " + ", ".join(
                f"{b.hazard_id} ({b.released or 'not planned'})" for b in e.waits_for))
        else:
            text.append("its repair waits for no hazard area")
        done = f"restored {e.restored}" if e.restored else "not in the latest plan"
    if e.plan_id is None:
        text.append("no plan yet: run sapper plan")
    else:
        text.append(f"in plan {e.plan_id}: first lot in week {e.week or '-'}, {done}")
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
    text = [f"profile {_named(result.profile)}; " + (
        "no plan yet" if result.plan_profile is None else
        f"the latest plan was made with profile {_named(result.plan_profile)}"
        + ("" if result.plan_profile.digest == result.profile.digest else " (other weights: its order differs)")),
            f"hazard areas by score ({len(result.hazards)} open):"]
    text += [f"  {r.record_id:<14} {r.score.value:.4f} = {_parts(r)}" for r in result.hazards[:n]]
    text.append(f"assets by score ({len(result.assets)}):")
    text += [f"  {r.record_id:<14} {r.score.value:.4f} = {_parts(r)}" for r in result.assets[:n]]
    lines(text)
