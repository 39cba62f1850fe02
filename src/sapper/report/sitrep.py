"""The situation report as HTML or PDF, in English, Ukrainian or Russian.

``render_situation(data, lang=...)`` fills ``templates/situation.html.j2`` (Jinja2 with the gettext extension: the
template's words come from the catalogues of :mod:`sapper.report.i18n`); ``write_situation(db, path, ...)`` gathers the
store's data and writes the HTML page, or the PDF through WeasyPrint with the DejaVu Sans fonts shipped in
``sapper/report/fonts`` (declared by ``@font-face``, so no system font is needed for Cyrillic).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from sapper.domain.landrelease import ReleaseState
from sapper.domain.pricing import PricingProfile
from sapper.prioritise.score import Contribution
from sapper.report import gantt, vega
from sapper.report.i18n import Lang, Speaker
from sapper.report.pages import Format, environment, font_faces, state_name, write_page
from sapper.report.series import date_bins
from sapper.report.sitdata import Priority, SituationData, Unit, gather
from sapper.report.sitmap import HAZARD_COLOURS, bin_label, map_svg
from sapper.report.taskorders import coded_word

#: Gantt rows (group headings and lanes) on one landscape A4 page, and on the first (under the heading and legend).
ROWS_PER_PAGE, FIRST_PAGE_ROWS = 44, 36
#: Units shown by name in the utilisation table's idle column before "and N more".
IDLE_NAMED = 12


def _raw(sp: Speaker, raw: object) -> str:
    words = {
        "residential": sp._("residential"), "agricultural": sp._("farmland"), "infrastructure": sp._("infrastructure"),
        "forest": sp._("forest"), "wetland": sp._("wetland"), "other": sp._("other land"),
        "SHA": sp._("suspected"), "CHA": sp._("confirmed"),
        "light": sp._("light"), "moderate": sp._("moderate"), "severe": sp._("severe"),
        "destroyed": sp._("destroyed"),
    }
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float) and 0.0 < raw < 1.0:  # a probability (the likelihood criterion): two decimals
        return sp.fmt_num(raw, digits=2)
    if isinstance(raw, int | float):
        return sp.fmt_num(float(raw))
    return words.get(str(raw), str(raw))


def explain(sp: Speaker, parts: tuple[Contribution, ...]) -> str:
    """A score's parts in words: ``people nearby: 1,200 (0.77 × 0.40)``."""
    names = {
        "beneficiaries": sp._("people nearby"), "land_use": sp._("land use"), "threat": sp._("evidence of mines"),
        "likelihood": sp._("chance of devices"),
        "criticality": sp._("criticality (1–5)"), "people_served": sp._("people served"), "damage": sp._("damage"),
    }
    return "; ".join(f"{names.get(c.criterion, c.criterion)}: {_raw(sp, c.raw)} "
                     f"({sp.fmt_num(c.normalised, digits=2)} × {sp.fmt_num(c.weight, digits=2)})" for c in parts)


@dataclass(frozen=True)
class UtilLine:
    group: str
    units: int
    people: int
    share: float | None
    idle: str


def utilisation(data: SituationData, sp: Speaker) -> list[UtilLine]:
    """Per organisation and role: units, people, share of the plan's working days with work, idle units named."""
    if data.plan_start is None or data.plan_finish is None:
        return []
    days = sum(1 for i in range((data.plan_finish - data.plan_start).days + 1)
               if (data.plan_start + dt.timedelta(days=i)).weekday() < 5)
    groups: dict[tuple[str, str], list[Unit]] = defaultdict(list)
    for u in data.units:
        groups[(u.organisation, u.role)].append(u)
    out = []
    for (org, role), members in sorted(groups.items()):
        idle = sorted(u.id for u in members if u.busy_days == 0)
        named = ", ".join(idle[:IDLE_NAMED])
        if len(idle) > IDLE_NAMED:
            more = len(idle) - IDLE_NAMED
            named += " " + sp.n_("and {n} more", "and {n} more", more).format(n=sp.fmt_int(more))
        share = sum(u.busy_days for u in members) / (days * len(members)) if days else None
        out.append(UtilLine(f"{org} — {gantt.role_name(sp, role)}", len(members), sum(u.size for u in members),
                            share, named or "—"))
    return out


@dataclass(frozen=True)
class RoleLine:
    role: str
    units: int
    borrowed: int
    days: int
    share: float | None


def role_lines(data: SituationData, sp: Speaker) -> list[RoleLine]:
    """Per role (method or trade) of the latest plan: units in it, of them in a borrowed role, working days, share
    of the available days of all deminers or builders (the plan's utilisation; none for a plan without one)."""
    use = data.unit_use
    if use is None:
        return []
    return [RoleLine(gantt.role_name(sp, r.role), r.units, r.borrowed_by, r.working_days,
                     None if r.share_pct is None else r.share_pct / 100) for r in use.roles]


def idle_named(data: SituationData, sp: Speaker) -> str:
    """The units the latest plan leaves idle its idle threshold or more, longest first: the first ``IDLE_NAMED`` by
    name with their idle working days, then how many more ("" without a utilisation)."""
    use = data.unit_use
    if use is None:
        return ""
    idle = use.idle
    named = ", ".join(f"{u.unit_id} ({sp.fmt_int(u.longest_idle_days)})" for u in idle[:IDLE_NAMED])
    if len(idle) > IDLE_NAMED:
        more = len(idle) - IDLE_NAMED
        named += " " + sp.n_("and {n} more", "and {n} more", more).format(n=sp.fmt_int(more))
    return named or "—"


def _planned_release_km2(data: SituationData) -> list[tuple[dt.date, float]]:
    by_day: dict[dt.date, float] = defaultdict(float)
    for h in data.hazards:
        if h.release_date is not None:
            by_day[h.release_date] += h.area_m2 / 1e6
    out, cum = [], 0.0
    for d in sorted(by_day):
        cum += by_day[d]
        out.append((d, cum))
    return out


def change_lines(data: SituationData, sp: Speaker) -> list[str]:
    c = data.changes
    out: list[str] = []
    if c.released:
        out.append(sp.n_("{n} hazardous area released", "{n} hazardous areas released", c.released).format(
            n=sp.fmt_int(c.released)))
    if c.handed_over:
        out.append(sp.n_("{n} area handed over to its users", "{n} areas handed over to their users",
                         c.handed_over).format(n=sp.fmt_int(c.handed_over)))
    if c.reopened:
        out.append(sp.n_("{n} area reopened after a find or a failed inspection",
                         "{n} areas reopened after a find or a failed inspection", c.reopened).format(
            n=sp.fmt_int(c.reopened)))
    if c.reclassified:
        out.append(sp.n_("{n} suspected area confirmed by evidence", "{n} suspected areas confirmed by evidence",
                         c.reclassified).format(n=sp.fmt_int(c.reclassified)))
    land = c.cancelled_m2 + c.reduced_m2 + c.cleared_m2
    if land > 0:
        out.append(sp._("land processed: {cancelled} ha cancelled, {reduced} ha reduced, {cleared} ha cleared").format(
            cancelled=sp.fmt_num(c.cancelled_m2 / 1e4), reduced=sp.fmt_num(c.reduced_m2 / 1e4),
            cleared=sp.fmt_num(c.cleared_m2 / 1e4)))
    if c.previous_finish is not None and c.finish is not None:
        if c.finish != c.previous_finish:
            out.append(sp._("the plan's finish moved from {before} to {after}").format(
                before=sp.fmt_date(c.previous_finish), after=sp.fmt_date(c.finish)))
        else:
            out.append(sp._("the plan's finish is unchanged: {date}").format(date=sp.fmt_date(c.finish)))
    if not out:
        out.append(sp._("no land-release events recorded in this period"))
    return out


def _whatif_assets(data: SituationData) -> list[tuple[str, str, list[tuple[dt.date | None, dt.date | None]]]]:
    """The saved comparison's critical assets: id, type, and (P50, P80) in each column."""
    w = data.whatif
    if w is None or not w.columns:
        return []
    first = w.columns[0].assets
    per = [{a.asset_id: (a.p50, a.p80) for a in c.assets} for c in w.columns]
    return [(a.asset_id, a.asset_type, [col.get(a.asset_id, (None, None)) for col in per]) for a in first]


def method_words(sp: Speaker, key: str) -> str:
    """A line of the costs by method (``nts``, ``manual``, ``repair: road``) in words a reader understands, in
    ``sp``'s language (the key itself when it has none)."""
    kind, _, trade = key.partition(": ")
    if trade:
        return f"{coded_word(sp, 'kind', kind)}: {coded_word(sp, 'method', trade)}"
    method = coded_word(sp, "method", key)
    return method if method != key else coded_word(sp, "kind", key)


def render_situation(data: SituationData, *, lang: Lang, pdf: bool = False) -> str:
    """The report page (HTML) for ``data`` in ``lang``; with ``pdf``, laid out for WeasyPrint (A4, fonts)."""
    sp = Speaker(lang)
    bins = date_bins([a.restore_date for a in data.assets])
    the_map = map_svg(data, bins, sp)
    domain = gantt.domain_of(data.bars, data.plan_start or data.start_date)
    gantt_pages = gantt.pages(gantt.rows(data.units, data.bars, sp), ROWS_PER_PAGE, sp, first=FIRST_PAGE_ROWS)
    states = {s: sum(1 for h in data.hazards if h.state is s) for s in ReleaseState}
    state_km2 = {s: sum(h.area_m2 for h in data.hazards if h.state is s) / 1e6 for s in ReleaseState}
    prios: list[Priority] = list(data.priorities)
    f = data.forecast
    fan = vega.forecast_fan_chart(f, sp, planned=_planned_release_km2(data)) if f is not None else None
    planned_cost = [(int(y.key), y.total) for y in data.costs.by_year if y.key.isdigit()] if data.costs else []
    cost_fan = (vega.cost_fan_chart(f, sp, planned=planned_cost, start=data.plan_start or data.start_date)
                if f is not None else None)
    release_chart = vega.land_release_chart(data.release_series, sp)
    assets_chart = vega.assets_by_class_chart(data.assets, sp)
    assets_fc = sorted((a for a in data.assets if a.forecast_p50 is not None),
                       key=lambda a: (-a.criticality, a.forecast_p50 or dt.date.max, a.id))[:15]
    context = {
        "sp": sp, "lang": lang.value, "data": data, "pdf": pdf,
        "font_faces": Markup(font_faces()) if pdf else "",
        "generated": sp.fmt_date(data.generated_at),
        "states": [(state_name(sp, s), HAZARD_COLOURS[s], states[s], state_km2[s]) for s in HAZARD_COLOURS],
        "bins": [(bin_label(sp, b.start, b.end, bins.step_months), b.colour) for b in bins.bins],
        "map": the_map,
        "map_svg": Markup(the_map.svg),
        "release_chart": Markup(release_chart) if release_chart else None,
        "assets_chart": Markup(assets_chart) if assets_chart else None,
        "fan_chart": Markup(fan) if fan else None,
        "cost_fan_chart": Markup(cost_fan) if cost_fan else None,
        "assets_fc": assets_fc,
        "asset_type": lambda v: vega.asset_type_name(sp, v),
        "gantt_legend": Markup(gantt.legend_svg(sp)),
        "gantt_pages": [Markup(gantt.page_svg(p, domain, sp)) for p in gantt_pages],
        "idle_total": sum(1 for u in data.units if u.busy_days == 0),
        "util": utilisation(data, sp),
        "roles": role_lines(data, sp),
        "idle_named": idle_named(data, sp),
        "unit_use": data.unit_use,
        "profile": data.profile,
        "whatif_chart": Markup(chart) if data.whatif is not None and (chart := vega.whatif_chart(data.whatif, sp))
        else None,
        "whatif_assets": _whatif_assets(data),
        "hazard_prios": [p for p in prios if p.kind == "hazard"],
        "asset_prios": [p for p in prios if p.kind == "asset"],
        "explain": lambda p: explain(sp, p.contributions),
        "changes": change_lines(data, sp),
        "deminers": sum(u.size for u in data.units if u.kind == "team"),
        "builders": sum(u.size for u in data.units if u.kind == "brigade"),
        "teams": sum(1 for u in data.units if u.kind == "team"),
        "brigades": sum(1 for u in data.units if u.kind == "brigade"),
        "assets_planned": sum(1 for a in data.assets if a.restore_date is not None),
        "cost_of": lambda lines, key: next((x.total for x in lines if x.key == key), 0.0),
        "method": lambda key: method_words(sp, key),
    }
    return environment(lang).get_template("situation.html.j2").render(context)


def write_situation(db: str | Path, path: str | Path, *, fmt: Format = Format.HTML, lang: Lang = Lang.EN,
                    forecast_runs: int = 500, since: dt.date | None = None,
                    pricing: PricingProfile | None = None) -> Path:
    """Write the situation report of the store at ``db`` to ``path`` as HTML or PDF in ``lang``, its costs at
    ``pricing``'s prices (None: sapper's default profile); return the path. The file is written whole or not at all
    (a temporary file beside it, renamed)."""
    data = gather(db, forecast_runs=forecast_runs, since=since, pricing=pricing)
    return write_page(render_situation(data, lang=lang, pdf=fmt is Format.PDF), path, fmt)
