"""The XLSForm templates sapper ships for field data collection (ODK, Kobo), written out for a field team; with a
register, forms whose id questions pick from the register's lists (CSV attachments) instead of free text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sapper.domain.hazards import HazardStatus
from sapper.domain.taskorders import ACTIVE
from sapper.io.xlsform import TASK_ORDERS_CSV, ListItem, RegisterLists, copy_templates, write_register_forms
from sapper.messages import msg
from sapper.store import Store


def write_templates(directory: Path, form: str | None = None) -> list[Path]:
    """Write the template ``form`` (nts, ts, clearance, accident or brigade; all when None) into ``directory``,
    created if needed; the files written. NotFoundError for an unknown form, ImportFileError when ``directory`` is a
    file."""
    return copy_templates(directory, [form] if form else None)


@dataclass(frozen=True)
class RegisterForms:
    """What ``write_register_forms`` wrote: the files (forms, then attachments), the rows of each list, and notes."""

    paths: tuple[Path, ...]
    list_rows: dict[str, int]
    notes: tuple[str, ...]


def register_lists(store: Store) -> RegisterLists:
    """The lists a field user picks from: organisations, teams, brigades, open hazard areas, assets (by id), and the
    task orders in force (issued or acknowledged), each with its unit and site (the form shows a unit's orders at the
    site chosen)."""
    orgs = store.organisations()
    return RegisterLists(
        organisations=tuple(ListItem(o.id, f"{o.id} — {o.name}" if o.name and o.name != o.id else o.id)
                            for o in sorted(orgs, key=lambda o: o.id)),
        teams=tuple(ListItem(t.id, f"{t.id} ({t.method.value}, {t.organisation_id})", t.organisation_id)
                    for t in sorted(store.teams(), key=lambda t: t.id)),
        brigades=tuple(ListItem(b.id, f"{b.id} ({b.trade.value}, {b.organisation_id})", b.organisation_id)
                       for b in sorted(store.brigades(), key=lambda b: b.id)),
        hazard_areas=tuple(
            ListItem(h.id, " ".join(p for p in (h.id, h.name) if p) + f" ({h.hazard_class.value}, "
                     f"{h.area_m2 / 10_000:,.1f} ha)")
            for h in sorted(store.hazards(), key=lambda h: h.id) if h.status is HazardStatus.OPEN),
        assets=tuple(ListItem(a.id, " ".join(p for p in (a.id, a.name) if p) + f" ({a.asset_type.value}, "
                                                                              f"{a.damage.value})")
                     for a in sorted(store.assets(), key=lambda a: a.id)),
        task_orders=tuple(
            ListItem(o.number, f"{o.number}: {o.site_id}, {o.start.isoformat()} – {o.end.isoformat()} "
                     f"({', '.join(dict.fromkeys(lot.kind for lot in o.lots))}, {o.state.value})",
                     o.organisation_id or "", unit_id=o.unit_id, site_id=o.site_id)
            for o in store.task_orders(states=ACTIVE)),
    )


def write_register_forms_from(store: Store, directory: Path, form: str | None = None) -> RegisterForms:
    """Write the form ``form`` (all when None) into ``directory`` with its organisation, team, brigade, hazard-area,
    asset and task-order questions as ``select_one_from_file`` over the register's current lists, and those lists as
    CSV attachments beside it. Write them again after issuing orders or re-planning: the lists (and so the forms'
    version) change."""
    lists = register_lists(store)
    paths = write_register_forms(directory, lists, [form] if form else None)
    rows = {name: len(items) for name, items in lists.files().items() if any(p.name == name for p in paths)}
    notes = [f"{name} is empty: the register has none; the question cannot be answered until it has"
             for name, n in rows.items() if n == 0 and name != TASK_ORDERS_CSV]
    if rows.get(TASK_ORDERS_CSV) == 0:
        notes.append(msg("{file} is empty: no task order is in force; the order question stays empty until orders "
                         "are issued (sapper tasks) and the forms written again", file=TASK_ORDERS_CSV))
    return RegisterForms(tuple(paths), rows, tuple(notes))
