"""Build a reference scenario into a store, in one transaction."""

from __future__ import annotations

from pathlib import Path

from sapper.errors import NotFoundError, StoreError
from sapper.scenario.kursk_border import build_kursk_border
from sapper.store import open_store
from sapper.store.records import ContextArea

SCENARIOS = ("kursk-border",)


def build_scenario(name: str, db: str | Path, *, seed: int = 2025, replace: bool = False) -> dict[str, int]:
    """Build scenario ``name`` with ``seed`` into a new store at ``db``; returns the counts per layer.

    The store must not exist, unless ``replace`` is set (the file is then deleted first). ``db`` may also be a
    ``postgresql://`` URL of a database that is missing or holds no records (``replace`` is for files only).
    """
    if name not in SCENARIOS:
        raise NotFoundError(f"no scenario {name!r}; known: {', '.join(SCENARIOS)}")
    if isinstance(db, str) and "://" in db:  # a PostgreSQL database: it must be new or empty
        if replace:
            raise StoreError("--replace deletes a store file; empty or drop the database instead")
    elif (db := Path(db)).exists():
        if not replace:
            raise StoreError(f"{db} already exists; pass --replace to build the scenario over it")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    with open_store(db, create=True) as store:
        if any(store.counts().values()):
            raise StoreError(f"{store.url} already holds records; build the scenario into a new store")
    sc = build_kursk_border(seed)
    with open_store(db) as store, store.write() as uow:
        uow.add_organisations(sc.organisations)
        uow.add_hazards(sc.hazards)
        uow.add_assets(sc.assets)
        uow.add_teams(sc.teams)
        uow.add_brigades(sc.brigades)
        uow.add_settlements(sc.settlements)
        uow.add_context_areas("admin_areas", [ContextArea(sc_name, poly, "Natural Earth", False)
                                              for sc_name, poly in (("Kursk Oblast", sc.oblast), *sc.neighbours)])
        uow.add_context_areas("contested_zone", [ContextArea("contested zone (synthetic)", sc.contested_zone,
                                                             "synthetic", True)])
        uow.set_meta({
            "scenario": sc.name,
            "seed": str(sc.seed),
            "start_date": sc.start_date.isoformat(),
            "synthetic": "true",
            "attributions": "\n".join(sc.attributions),
            "notes": "\n".join(sc.notes),
            "border_wkt": sc.border.wkt,
        })
    with open_store(db) as store:
        return store.counts()
