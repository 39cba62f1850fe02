"""Build a reference scenario into a new store, in one transaction."""

from __future__ import annotations

from pathlib import Path

from sapper.errors import NotFoundError, StoreError
from sapper.messages import msg
from sapper.scenario.kursk_border import KurskBorderConfig, build_kursk_border
from sapper.scenario.national_synthetic import SCENARIO_NAME as NATIONAL
from sapper.scenario.national_synthetic import NationalConfig, build_national_synthetic
from sapper.services.audit import audit_written
from sapper.services.register import create_register
from sapper.services.settings import Settings
from sapper.store import Store
from sapper.store.records import ContextArea

SCENARIOS = ("kursk-border", NATIONAL)
#: Who a scenario build is audited as (the command).
BUILD_ACTOR = "sapper scenario build"


def check_scenario(name: str) -> None:
    """NotFoundError unless ``name`` is a reference scenario."""
    if name not in SCENARIOS:
        raise NotFoundError(msg("no scenario {name}; known: {known}", name=repr(name), known=', '.join(SCENARIOS)))


def build_scenario(store: Store, name: str, *, seed: int = 2025,
                   config: KurskBorderConfig | NationalConfig | None = None) -> dict[str, int]:
    """Build scenario ``name`` with ``seed`` (and ``config``, default the reference one) into ``store`` in one
    transaction; the counts per layer.

    ``store`` must hold no records (StoreError otherwise: a scenario is never mixed into a register).
    """
    check_scenario(name)
    if any(store.counts().values()):
        raise StoreError(msg("{url} already holds records; build the scenario into a new store", url=store.url))
    regions: list[ContextArea]
    extra: dict[str, str] = {}
    if name == NATIONAL:
        national = build_national_synthetic(seed, config=config if isinstance(config, NationalConfig) else None)
        sc = national.scenario
        regions = [ContextArea(n, poly, "Natural Earth", False) for n, poly in national.regions]
        zones = [ContextArea(f"contested zone, {n} (synthetic)", poly, "synthetic", True) for n, poly in national.zones]
        extra["regions"] = "\n".join(n for n, _ in national.regions)  # the plan's regions (sapper plan --decompose)
    else:
        sc = build_kursk_border(seed, config=config if isinstance(config, KurskBorderConfig) else None)
        regions = [ContextArea(sc_name, poly, "Natural Earth", False)
                   for sc_name, poly in (("Kursk Oblast", sc.oblast), *sc.neighbours)]
        zones = [ContextArea("contested zone (synthetic)", sc.contested_zone, "synthetic", True)]
    with store.write() as uow:
        uow.add_organisations(sc.organisations)
        uow.add_hazards(sc.hazards)
        uow.add_assets(sc.assets)
        audit_written(uow, [*sc.hazards, *sc.assets], existing=(), actor=BUILD_ACTOR,
                      reason=f"scenario {name} built with seed {seed}")
        uow.add_teams(sc.teams)
        uow.add_brigades(sc.brigades)
        uow.add_settlements(sc.settlements)
        uow.add_context_areas("admin_areas", regions)
        uow.add_context_areas("contested_zone", zones)
        uow.set_meta({
            "scenario": sc.name,
            "seed": str(sc.seed),
            "start_date": sc.start_date.isoformat(),
            "synthetic": "true",
            "attributions": "\n".join(sc.attributions),
            "notes": "\n".join(sc.notes),
            "border_wkt": sc.border.wkt,
            **extra,
        })
    return store.counts()


def build_scenario_register(settings: Settings, name: str, *, seed: int = 2025, replace: bool = False,
                            config: KurskBorderConfig | NationalConfig | None = None) -> dict[str, int]:
    """Build scenario ``name`` into a new store at ``settings.db``; the counts per layer.

    A store file must not exist, unless ``replace`` is set (the file is then deleted first, once the name is known
    to be a scenario). A database URL (``postgresql://…``) is never dropped: ``replace`` is refused for it.
    """
    check_scenario(name)
    if settings.db is not None and "://" in settings.db:  # a database: it must be new or empty, never dropped here
        if replace:
            raise StoreError(msg("--replace deletes a store file; empty or drop the database instead"))
        db = None
    else:
        db = Path(settings.db) if settings.db is not None else None
    if db is not None and db.exists():
        if not replace:
            raise StoreError(msg("{db} already exists; pass --replace to build the scenario over it", db=db))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    with create_register(settings) as store:
        return build_scenario(store, name, seed=seed, config=config)
