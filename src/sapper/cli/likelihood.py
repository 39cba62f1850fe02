"""``sapper likelihood``: the chance that each open hazard area holds devices, fitted on the register's history."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from sapper.cli._options import AsJson, Db, settings
from sapper.cli._output import lines, localise, tr, tr_n


def likelihood(
    ctx: typer.Context,
    db: Db,
    top: Annotated[int, typer.Option("--top", help="Areas to list, most likely first; 0: all.")] = 20,
    seed: Annotated[int, typer.Option(help="The model's random seed (the same register and seed, the same "
                                           "result).")] = 0,
    as_json: AsJson = False,
) -> None:
    """List open hazard areas by their chance of holding devices (a model fitted on the areas with a recorded
    outcome, or the class prior when they are too few). Advice for the order of survey, never a release decision."""
    from sapper.services.likelihood import likelihood_document, likelihood_view
    from sapper.services.register import open_register

    with open_register(settings(ctx, db=db)) as store:
        view = likelihood_view(store, seed=seed)
    n = top if top > 0 else None
    result = view.result
    if as_json:
        print(json.dumps(likelihood_document(result, open_ids=set(view.open_ids), top=n), indent=1,
                         ensure_ascii=False))
        return
    if result.fitted:
        head = tr_n("model fitted on {n} area with a recorded outcome ({positives} with devices); seed {seed}",
                    "model fitted on {n} areas with a recorded outcome ({positives} with devices); seed {seed}",
                    result.labelled, positives=result.positives, seed=seed)
    else:
        prior = ", ".join(f"{c} {p:g}" for c, p in view.prior.items())
        head = tr("too few outcomes to fit the model: {reason}; every area gets its class prior ({prior})",
                  reason=localise(result.reason), prior=prior)
    text = [head, tr("open hazard areas by chance of devices ({n} open):", n=len(view.open_ids))]
    found = {True: tr("; devices found"), False: tr("; processed, none found"), None: ""}
    source = {"model": tr("model"), "prior": tr("prior")}
    text += [f"  {a.hazard_id:<14} {a.probability:.3f}  "
             f"({source.get(a.source.value, a.source.value)}{found[a.outcome]})" for a in view.ranked(n)]
    lines(text)
