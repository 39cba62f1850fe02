"""The web worker remembers verified credentials (services.accounts.CredentialCache) and still refuses a revoked,
expired or changed credential at once: a revocation, password change or authority change made by another
process (here: another Store on the same register, as the CLI would) changes the credentials epoch the worker
reads on every request. Both backends."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Float, literal, select

from sapper.domain.users import Principal, Role
from sapper.services import accounts
from sapper.store import Store, open_store
from sapper.store import accounts as account_rows
from sapper.store.features import FeaturePage, FeatureQuery, StaleCredentials, release_phase, release_phase_sql
from tests.api.conftest import Api, fill

ITEMS = "/collections/hazard_areas/items?limit=100"


def _bearer(api: Api, user: str) -> dict[str, str]:
    with open_store(api.target) as store:
        return {"Authorization": f"Bearer {accounts.issue_token(store, user, days=1).token}"}


def _ids(api: Api, headers: dict[str, str]) -> set[str]:
    r = api.client.get(ITEMS, headers=headers)
    assert r.status_code == 200, r.text
    return {f["id"] for f in r.json()["features"]}


def test_a_token_is_verified_once_then_remembered(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token join runs on the first request only; every request still reads the epoch: on its own before the
    page (the first) or within the page's own transaction (the items path's remembered tokens)."""
    headers = _bearer(api, "plan-a")
    calls = {"grant": 0, "epoch": 0, "page_with_epoch": 0}
    grant, epoch, features = Store.token_grant, Store.auth_epoch, Store.features

    def counted_grant(self: Store, token_hash: str) -> object:
        calls["grant"] += 1
        return grant(self, token_hash)

    def counted_epoch(self: Store) -> str:
        calls["epoch"] += 1
        return epoch(self)

    def counted_features(self: Store, query: FeatureQuery) -> FeaturePage:
        calls["page_with_epoch"] += query.epoch is not None
        return features(self, query)

    monkeypatch.setattr(Store, "token_grant", counted_grant)
    monkeypatch.setattr(Store, "auth_epoch", counted_epoch)
    monkeypatch.setattr(Store, "features", counted_features)
    for _ in range(5):
        assert _ids(api, headers) == {"HA-A1", "HA-A2"}  # op-a's areas only
    assert calls["grant"] == 1
    assert calls["epoch"] + calls["page_with_epoch"] >= 5
    assert calls["page_with_epoch"] >= 4  # after the first, in the page's transaction


def test_a_page_asked_under_an_old_epoch_is_refused(store_target: str | Path) -> None:
    """``FeatureQuery.epoch``: the page is answered only while the credentials epoch is the one named (read in the
    page's own transaction, on both backends, with and without a bbox); otherwise StaleCredentials, and nothing."""
    fill(store_target)
    with open_store(store_target) as store:
        now = store.auth_epoch()
        for bbox in (None, (-180.0, -90.0, 180.0, 90.0)):
            page = store.features(FeatureQuery("hazard_areas", limit=10, bbox=bbox, epoch=now))
            assert page.number_matched == len(page.features) > 0
            with pytest.raises(StaleCredentials):
                store.features(FeatureQuery("hazard_areas", limit=10, bbox=bbox, epoch=now + "-old"))
        with store.write() as uow:  # as a revocation does
            account_rows.bump_auth_epoch(uow.connection)
        with pytest.raises(StaleCredentials):
            store.features(FeatureQuery("hazard_areas", limit=10, epoch=now))
        assert store.features(FeatureQuery("hazard_areas", limit=10, epoch=store.auth_epoch())).features


def test_a_revoked_token_is_refused_at_once_by_a_worker_that_remembers_it(api: Api) -> None:
    headers = _bearer(api, "plan-a")
    for _ in range(3):  # remembered
        assert api.client.get(ITEMS, headers=headers).status_code == 200
    with open_store(api.target) as other:  # as another process would (its own Store on the same register)
        assert accounts.revoke_tokens(other, "plan-a") == 1
    r = api.client.get(ITEMS, headers=headers)
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]
    assert api.client.get(ITEMS, headers=headers).status_code == 401


def test_a_changed_password_is_refused_at_once_for_basic(api: Api) -> None:
    auth = api.auth("plan-a")
    assert api.client.get(ITEMS, auth=auth).status_code == 200
    assert api.client.get(ITEMS, auth=auth).status_code == 200  # remembered
    with open_store(api.target) as other, other.write() as uow:
        found = account_rows.user_credentials(uow.connection, "plan-a")
        assert found is not None
        new_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("another password 123")
        account_rows.set_password_hash(uow.connection, found[0].user_id, new_hash)
    assert api.client.get(ITEMS, auth=auth).status_code == 401
    assert api.client.get(ITEMS, auth=("plan-a", "another password 123")).status_code == 200


def test_an_authority_change_is_seen_at_once(api: Api) -> None:
    """A remembered principal carries the organisation's authority; withdrawing it narrows the next request."""
    headers = _bearer(api, "ima")
    before = _ids(api, headers)
    assert {"HA-A1", "HA-B1"} <= before  # the authority sees every operator's areas
    with open_store(api.target) as other, other.write() as uow:
        account_rows.set_authority(uow.connection, "nmaa", False)
    after = _ids(api, headers)
    assert not after & {"HA-A1", "HA-B1"}, after


class _Epoch:
    """A stand-in store for the cache's unit tests: only the epoch."""

    def __init__(self) -> None:
        self.value = "e1"

    def auth_epoch(self) -> str:
        return self.value


WHO = Principal(7, "someone", Role.PLANNER, "op-a", False)


def test_the_cache_refuses_an_expired_token_at_once() -> None:
    cache, store = accounts.CredentialCache(60.0), _Epoch()
    assert cache.get(store, "token:x") is None  # type: ignore[arg-type]  # learns the epoch
    cache.put("token:x", WHO, "e1", dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=150))
    assert cache.get(store, "token:x") == WHO  # type: ignore[arg-type]
    time.sleep(0.2)
    assert cache.get(store, "token:x") is None  # type: ignore[arg-type]


def test_the_cache_forgets_after_its_time_and_on_a_new_epoch() -> None:
    cache, store = accounts.CredentialCache(0.1), _Epoch()
    assert cache.get(store, "k") is None  # type: ignore[arg-type]  # learns the epoch
    cache.put("k", WHO, "e1")
    assert cache.get(store, "k") == WHO  # type: ignore[arg-type]
    time.sleep(0.15)
    assert cache.get(store, "k") is None  # type: ignore[arg-type]
    cache.put("k", WHO, "e1")
    store.value = "e2"
    assert cache.get(store, "k") is None  # type: ignore[arg-type]
    cache.put("k", WHO, "e1")  # verified under the old epoch (a revocation raced it): not trusted
    assert cache.get(store, "k") is None  # type: ignore[arg-type]
    off = accounts.CredentialCache(0)
    off.put("k", WHO, "e2")
    assert off.get(store, "k") is None  # type: ignore[arg-type]


def test_the_page_phase_agrees_with_the_sql_phase(store_target: str | Path) -> None:
    """A page computes ``release_phase`` in Python from state and remaining area; filters use the SQL form. Both
    agree on every state, remainders around the 0.5 m² edges, and a missing area."""
    cases = [(state, remaining, area)
             for state in ("suspected", "confirmed", "released", "handed_over", "cancelled")
             for remaining in (None, 0.0, 0.4, 0.5, 0.6, 50.0, 99.4, 99.5, 99.6, 100.0, 120.0)
             for area in (None, 100.0)]
    with open_store(store_target, create=True) as store, store.write() as uow:
        found = [uow.connection.execute(select(release_phase_sql(
            literal(state), literal(remaining, Float()), literal(area, Float())))).scalar_one()
            for state, remaining, area in cases]
    assert [release_phase(*c) for c in cases] == found
    assert set(found) == {"released", "processed", "in_progress", "open"}
