"""Fixtures shared by the service tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sapper.store import Store, open_store


@pytest.fixture
def reg(db: Path) -> Iterator[Store]:
    """The test module's ``db`` store, open, as an entry point hands it to the services; closed after the test."""
    with open_store(db) as store:
        yield store
