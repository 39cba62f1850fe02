"""Settings: built from the environment once, checked, never read at import time."""

from __future__ import annotations

import pytest

from sapper.errors import ValidationError
from sapper.services.settings import Settings


def test_from_env_reads_the_sapper_variables() -> None:
    """SAPPER_DB, SAPPER_TIME_LIMIT and SAPPER_WORKERS set db, time_limit_s and workers; others keep defaults."""
    got = Settings.from_env({"SAPPER_DB": "postgresql://h/db", "SAPPER_TIME_LIMIT": "12.5", "SAPPER_WORKERS": "4",
                             "HOME": "/root"})
    assert got == Settings(db="postgresql://h/db", time_limit_s=12.5, workers=4)
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({"SAPPER_DB": ""}).db is None


def test_from_env_reports_every_bad_value_at_once() -> None:
    """Unusable values are faults naming their variable, all in one error."""
    with pytest.raises(ValidationError) as exc:
        Settings.from_env({"SAPPER_TIME_LIMIT": "1m", "SAPPER_WORKERS": "2.5"})
    assert [str(f) for f in exc.value.faults] == ["SAPPER_TIME_LIMIT: '1m' is not a number",
                                                  "SAPPER_WORKERS: '2.5' is not a whole number"]


def test_settings_are_checked_and_frozen() -> None:
    """A time limit of 0, no workers or an empty store name are refused; replace() returns a checked copy."""
    with pytest.raises(ValidationError, match="time_limit_s: must be above 0"):
        Settings(time_limit_s=0)
    with pytest.raises(ValidationError, match="workers: must be at least 1"):
        Settings().replace(workers=0)
    with pytest.raises(ValidationError, match="db: is empty"):
        Settings(db=" ")
    base = Settings()
    assert base.replace(db="x.gpkg") == Settings(db="x.gpkg") and base.db is None
    with pytest.raises(AttributeError):
        base.db = "y"  # type: ignore[misc]

