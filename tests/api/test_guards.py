"""Limits and headers of the web service (issue 16 items 9 and 10): security headers on every response, the request
body limit, the sign-in throttle, and the password policy. On a GeoPackage store (nothing here depends on the
backend; the authorisation and write suites run on both)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sapper.api import Settings, create_app
from sapper.api.guards import CSP
from sapper.domain.users import MIN_PASSWORD_LENGTH, Role, password_faults
from sapper.errors import ValidationError
from sapper.services import accounts
from sapper.store import accounts as account_rows
from sapper.store import open_store
from tests.api.conftest import DATA_KEY

from .conftest import PASSWORD, fill


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "guards.gpkg"
    fill(path)
    return path


@pytest.fixture
def client(store: Path) -> Iterator[TestClient]:
    settings = Settings(db=store, max_body_bytes=4096, sign_in_failures_per_name=3, sign_in_failures_per_address=5,
                        data_key=DATA_KEY)
    with TestClient(create_app(settings)) as c:
        yield c


HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff", "x-frame-options": "DENY",
           "referrer-policy": "no-referrer", "cross-origin-opener-policy": "same-origin"}


@pytest.mark.parametrize(("path", "auth", "status"), [
    ("/collections/hazard_areas/items?limit=1", ("ima", PASSWORD), 200),
    ("/collections/hazard_areas/items", None, 401),
    ("/collections/nothing/items", ("ima", PASSWORD), 404),
    ("/map/index.html", None, 200),
    ("/api", None, 200),
])
def test_every_response_carries_the_security_headers(client: TestClient, path: str, auth: tuple[str, str] | None,
                                                      status: int) -> None:
    r = client.get(path, auth=auth)
    assert r.status_code == status
    for name, value in HEADERS.items():
        assert r.headers.get(name) == value, name
    assert "strict-transport-security" not in r.headers  # plain HTTP here


def test_the_policy_forbids_inline_script_and_framing() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe" not in CSP
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


def test_hsts_behind_https(store: Path) -> None:
    with TestClient(create_app(Settings(db=store, secure_cookies=True, data_key=DATA_KEY))) as c:
        assert c.get("/api").headers["strict-transport-security"].startswith("max-age=")


def test_a_body_over_the_limit_is_refused_before_it_is_read(client: TestClient) -> None:
    body = b'{"name": "ima", "password": "' + b"x" * 5000 + b'"}'
    r = client.post("/api/session", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large" and "session" not in r.cookies


def test_a_chunked_body_over_the_limit_is_cut_off(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "ima", "password": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    r = client.post("/api/session", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large"


def test_a_body_under_the_limit_goes_through(client: TestClient) -> None:
    r = client.post("/api/session", json={"name": "ima", "password": PASSWORD})
    assert r.status_code == 200


def test_failed_sign_ins_are_throttled_per_name(client: TestClient) -> None:
    for _ in range(3):
        assert client.post("/api/session", json={"name": "ima", "password": "wrong password"}).status_code == 401
    r = client.post("/api/session", json={"name": "ima", "password": PASSWORD})  # even the right one
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["code"] == "too_many_attempts"
    assert client.get("/api/v1/me", auth=("ima", PASSWORD)).status_code == 429  # Basic too
    assert client.post("/api/session", json={"name": "admin", "password": PASSWORD}).status_code == 200


def test_failed_sign_ins_are_throttled_per_address(client: TestClient) -> None:
    for name in ("a1", "a2", "a3", "a4", "a5"):
        assert client.post("/api/session", json={"name": name, "password": "wrong password"}).status_code == 401
    assert client.post("/api/session", json={"name": "admin", "password": PASSWORD}).status_code == 429


def test_wrong_basic_credentials_count_as_failures(client: TestClient) -> None:
    for _ in range(3):
        assert client.get("/api/v1/me", auth=("plan-a", "wrong password")).status_code == 401
    assert client.get("/api/v1/me", auth=("plan-a", PASSWORD)).status_code == 429


@pytest.mark.parametrize(("name", "password", "reason"), [
    ("anna", "short-one", f"fewer than {MIN_PASSWORD_LENGTH}"),
    ("anna", "anna-is-my-password", "user name"),
    ("anna", "aaaaaaaaaaaaaaaa", "repeats"),
    ("anna", "Password2025!!", "common choice"),
    ("anna", "1234567890123", "common choice"),
    ("anna", "qwertyuiop1234", "common choice"),
])
def test_the_password_policy_refuses(name: str, password: str, reason: str) -> None:
    assert any(reason in f for f in password_faults(name, password)), password_faults(name, password)


@pytest.mark.parametrize("password", ["correct horse battery", "a long password", "Tree line by the bridge 7"])
def test_the_password_policy_accepts(password: str) -> None:
    assert password_faults("anna", password) == []


def test_add_user_names_every_reason(tmp_path: Path) -> None:
    with open_store(tmp_path / "u.gpkg", create=True) as store:
        accounts.add_organisation(store, "org")
        with pytest.raises(ValidationError) as exc:
            accounts.add_user(store, "anna", role=Role.VIEWER, organisation_id="org", password="anna2025")
        assert "fewer than 12" in str(exc.value) and "user name" in str(exc.value)
        assert store.counts().get("users", 0) == 0


def test_page_size_is_capped(client: TestClient) -> None:
    """A page larger than 10,000 features is served as 10,000 (OGC API – Features lets a server cap ``limit``): the
    paging links say the limit used."""
    r = client.get("/collections/hazard_areas/items?limit=20000&offset=1", auth=("ima", PASSWORD))
    assert r.status_code == 200
    [prev] = [link["href"] for link in r.json()["links"] if link["rel"] == "prev"]
    assert "limit=10000" in prev


def test_solver_time_is_capped(client: TestClient) -> None:
    r = client.post("/api/v1/plans/jobs", json={"time_limit_s": 3601}, auth=("ima", PASSWORD))
    assert r.status_code == 422 and r.json()["field"] == "time_limit_s"


def test_an_expired_token_is_refused_at_once(client: TestClient, store: Path) -> None:
    expired = "an-expired-token-" + "x" * 20
    with open_store(store) as s:
        with s.write() as uow:  # a token that expired a minute ago
            account_rows.add_token(uow.connection, "ima", accounts.secret_hash(expired),
                                   dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        live = accounts.issue_token(s, "ima")
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {live.token}"}).status_code == 200
    with open_store(store) as s:
        assert accounts.revoke_tokens(s, "ima") >= 1
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {live.token}"}).status_code == 401


def test_a_geometry_with_too_many_vertices_is_refused(store: Path) -> None:
    """A polygon of 100,001 vertices (a circle) is refused with one message naming the count; nothing is stored."""
    import math

    from sapper.domain.geometry import MAX_VERTICES

    n = MAX_VERTICES + 1
    ring = [[35.05 + 0.01 * math.cos(2 * math.pi * k / n), 50.05 + 0.01 * math.sin(2 * math.pi * k / n)]
            for k in range(n - 1)]
    ring.append(ring[0])
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
               "properties": {"name": "Jagged", "hazard_class": "SHA", "evidence": "indirect", "land_use": "forest"}}
    with open_store(store) as s:
        before = s.counts()["hazard_areas"]
    with TestClient(create_app(Settings(db=store, data_key=DATA_KEY))) as c:
        r = c.post("/collections/hazard_areas/items", json=feature, auth=("plan-a", PASSWORD))
    assert r.status_code == 422 and f"{n:,} vertices" in r.json()["detail"], r.text
    with open_store(store) as s:
        assert s.counts()["hazard_areas"] == before
