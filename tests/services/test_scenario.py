"""Building a reference scenario refuses, before building anything, what it must not overwrite or mix."""

from __future__ import annotations

from pathlib import Path

import pytest

from sapper.domain.resources import Organisation, OrgKind
from sapper.errors import NotFoundError, StoreError
from sapper.services.scenario import build_scenario, build_scenario_register
from sapper.services.settings import Settings
from sapper.store import open_store


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    """A store file holding one organisation."""
    path = tmp_path / "register.gpkg"
    with open_store(path, create=True) as store, store.write() as uow:
        uow.add_organisations([Organisation("op-1", "Operator One", OrgKind.OPERATOR)])
    return path


def test_an_unknown_scenario_deletes_nothing(existing: Path) -> None:
    """An unknown name is NotFoundError naming the known ones, and --replace does not delete the file first."""
    before = existing.read_bytes()
    with pytest.raises(NotFoundError, match="no scenario 'kyiv'; known: kursk-border"):
        build_scenario_register(Settings(db=str(existing)), "kyiv", replace=True)
    assert existing.read_bytes() == before


def test_an_existing_file_needs_replace(existing: Path) -> None:
    """Without --replace an existing file is StoreError and stays as it was."""
    before = existing.read_bytes()
    with pytest.raises(StoreError, match="already exists; pass --replace"):
        build_scenario_register(Settings(db=str(existing)), "kursk-border")
    assert existing.read_bytes() == before


def test_a_database_is_never_dropped() -> None:
    """--replace with a database URL is refused before anything is opened."""
    with pytest.raises(StoreError, match="empty or drop the database instead"):
        build_scenario_register(Settings(db="postgresql://localhost/nowhere"), "kursk-border", replace=True)


def test_a_scenario_is_not_mixed_into_a_register(existing: Path) -> None:
    """Building into an open store that holds records is StoreError; nothing is added."""
    with open_store(existing) as store:
        before = store.counts()
        with pytest.raises(StoreError, match="already holds records"):
            build_scenario(store, "kursk-border")
        assert store.counts() == before
