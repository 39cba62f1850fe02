"""``sapper costs``: what the store's latest plan (or another plan run) costs, at the programme's prices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sapper.cli._options import Db, settings
from sapper.cli._output import lines, tr

if TYPE_CHECKING:
    from sapper.services.costs import CostLine, PlanCosts

PricingFile = Annotated[
    Path | None,
    typer.Option(
        "--pricing",
        help="A pricing profile (TOML, the layout of the shipped default in "
        "docs/costs.md); default: sapper's, every figure sourced or marked "
        "an assumption.",
    ),
]


def _parse_plan(value: str) -> int | None:
    from sapper.errors import Fault, ValidationError
    from sapper.messages import msg

    if value == "latest":
        return None
    if value.isdigit():
        return int(value)
    raise ValidationError("--plan", [Fault("--plan", msg("{value} is neither 'latest' nor a plan run id",
                                                       value=repr(value)))])


def costs(
    ctx: typer.Context,
    db: Db,
    plan: Annotated[str, typer.Option("--plan", help="The plan run to price: latest, or its id.")] = "latest",
    pricing: PricingFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the costs as JSON.")] = False,
) -> None:
    """What the plan costs: totals by year, organisation, district, method and asset class; cost per km² released
    and per asset restored; what the cheapest clearance method per area would save and cost in team-days."""
    from sapper.services.costs import costs_document, plan_costs
    from sapper.services.pricing import load_pricing
    from sapper.services.register import open_register

    profile = load_pricing(pricing)
    with open_register(settings(ctx, db=db)) as store:
        result = plan_costs(store, profile, plan_id=_parse_plan(plan))
    if as_json:
        print(json.dumps(costs_document(result), indent=1, ensure_ascii=False))
        return
    lines(cost_lines(result))


def _amount(x: float | None, currency: str) -> str:
    return "-" if x is None else f"{x:,.0f} {currency}"


def cost_lines(c: PlanCosts) -> list[str]:
    """The costs as aligned text lines."""
    cur = c.currency
    out = [
        tr(
            "costs of plan run {plan} at {year} prices in {currency} ({pricing})",
            plan=c.plan_id,
            year=c.price_year,
            currency=cur,
            pricing=c.pricing_name,
        ),
        tr(
            "total            : {total} (direct {direct}, overheads {overheads})",
            total=_amount(c.total, cur),
            direct=_amount(c.direct, cur),
            overheads=_amount(c.total - c.direct, cur),
        ),
        tr("demining         : {amount}", amount=_amount(c.demining, cur)),
        tr("reconstruction   : {amount}", amount=_amount(c.reconstruction, cur)),
        tr(
            "per km² released : {amount} ({km2} km² released)",
            amount=_amount(c.cost_per_km2_released, cur),
            km2=f"{c.km2_released:.2f}",
        ),
        tr(
            "per asset restored: {amount} ({n} assets restored)",
            amount=_amount(c.cost_per_asset_restored, cur),
            n=c.assets_restored,
        ),
    ]
    demining = {r.key: r.total for r in c.demining_by_year}
    reconstruction = {r.key: r.total for r in c.reconstruction_by_year}
    out.append(tr("by year (total, demining, reconstruction):"))
    out.extend(
        f"  {r.key:<10} {_amount(r.total, cur):>20} {_amount(demining.get(r.key, 0.0), cur):>20} "
        f"{_amount(reconstruction.get(r.key, 0.0), cur):>20}"
        for r in c.by_year
    )
    for title, rows in (
        (tr("by organisation"), c.by_organisation),
        (tr("by district"), c.by_district),
        (tr("by method"), c.by_method),
        (tr("by asset class"), c.by_asset_class),
    ):
        out.append(f"{title}:")
        out.extend(_row(r, cur) for r in rows)
    if c.cheapest:
        out.append(
            tr(
                "cheapest clearance method per area would save {saving}, team-days {days} against the plan "
                "({n} areas):",
                saving=_amount(c.cheapest_saving, cur),
                days=f"{c.cheapest_extra_team_days:+.0f}",
                n=len(c.cheapest),
            )
        )
        out.extend(
            f"  {s.hazard_id:<16} {'+'.join(s.planned_methods):<18} → {s.cheapest_method:<10} "
            f"{_amount(s.saving, cur):>18}  {s.extra_team_days:+.0f} team-days"
            for s in c.cheapest
        )
    else:
        out.append(tr("cheapest clearance method per area: the plan already uses it everywhere"))
    return out


def _row(r: CostLine, currency: str) -> str:
    return f"  {r.key:<24} {_amount(r.total, currency):>20}"
