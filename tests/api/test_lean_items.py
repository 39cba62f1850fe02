"""The lean items path (``sapper.api.leanitems``): ``GET /collections/{c}/items`` answered straight from an ASGI
wrapper. Its answers are the FastAPI route's — status, headers and body, errors and HTML included — for every kind
of request and caller (compared with the same app without the wrapper, on both backends); it answers without the
route; and what it does not take goes to FastAPI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sapper.api import Settings, auth, create_app
from sapper.api.leanitems import LeanItems, collection_of
from sapper.api.problems import HTTPProblem
from sapper.domain.users import Principal
from sapper.services import accounts
from sapper.store import open_store
from tests.api.conftest import DATA_KEY, PASSWORD, fill
from tests.conftest import PostgisServer

_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def filled(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str | Path, str]]:
    """One filled store per backend for the module's tests, which only read it (GET); an API token of the IM
    officer. Filling a store per test cost these ~150 tests most of their time."""
    if request.param == "sqlite":
        target: str | Path = tmp_path_factory.mktemp("lean") / "sapper.gpkg"
    else:
        server: PostgisServer = request.getfixturevalue("postgis")
        target = server.new_store_database()
    fill(target)
    with open_store(target) as store:
        token = accounts.issue_token(store, "ima").token
    yield target, token
    if request.param == "postgis":
        server.drop(str(target))


@pytest.fixture
def clients(filled: tuple[str | Path, str]) -> Iterator[tuple[TestClient, TestClient, str]]:
    """The app as served (lean path in front) and the same app without it, over the filled store (new apps per
    test: their sign-in throttles and credential caches start empty); the IM officer's API token."""
    store_target, token = filled
    lean = create_app(Settings(db=store_target, data_key=DATA_KEY))
    plain = create_app(Settings(db=store_target, data_key=DATA_KEY))
    assert any(m.cls is LeanItems for m in plain.user_middleware)
    plain.user_middleware = [m for m in plain.user_middleware if m.cls is not LeanItems]
    with TestClient(lean) as a, TestClient(plain) as b:
        yield a, b, token


def _same(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code, (a.text, b.text)
    assert dict(a.headers) == dict(b.headers) or _without_length(a) == _without_length(b)
    if a.headers.get("content-type", "").startswith(("application/geo+json", "application/problem+json")):
        assert _without_time(a.json()) == _without_time(b.json())
    else:
        assert a.text == b.text


def _without_length(r: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k != "content-length"}


def _without_time(body: Any) -> Any:
    return {k: v for k, v in body.items() if k != "timeStamp"} if isinstance(body, dict) else body


QUERIES = [
    "",
    "?limit=2",
    "?limit=1&offset=1",
    "?limit=1&offset=2&limit=2",
    "?limit=100000",
    "?limit=007",
    "?bbox=35.0,50.0,35.2,50.2",
    "?bbox=35.0,50.0,0,35.2,50.2,100",
    f"?bbox=50.0,35.0,50.2,35.2&bbox-crs={_EPSG}4326",
    f"?crs={_EPSG}3857&limit=2",
    f"?crs={_EPSG}4326",
    "?filter=name LIKE 'Field%25'&filter-lang=cql2-text",
    "?filter=beneficiaries >= 50",
    "?filter=nonsense = 1",
    "?f=html",
    "?f=xml",
    "?bbox=1,2,3",
    "?bbox=3,2,1,4",
    "?crs=EPSG:9999",
    "?bbox-crs=EPSG:9999&bbox=1,2,3,4",
    "?filter-lang=cql2-json&filter=x=1",
    "?filter-crs=EPSG:3857",
    "?limit=0",
    "?limit=ten",
    "?limit=-1",
    "?offset=-1",
    "?limit=",
    "?limit=99999999999999999999",
    "?unknown=1",
]


@pytest.mark.parametrize("query", QUERIES)
def test_hazard_pages_are_the_routes_answers(clients: tuple[TestClient, TestClient, str], query: str) -> None:
    """Every kind of items request on hazard areas gets the same answer through the lean path as through FastAPI."""
    lean, plain, _ = clients
    path = f"/collections/hazard_areas/items{query}"
    _same(lean.get(path, auth=("ima", PASSWORD)), plain.get(path, auth=("ima", PASSWORD)))


@pytest.mark.parametrize("user", ["ima", "viewer", "plan-a", "field-a", "plan-b", "view-a"])
@pytest.mark.parametrize("collection", ["hazard_areas", "assets", "activities", "settlements", "plan_tasks", "nothing"])
def test_every_caller_and_collection_gets_the_routes_answer(
    clients: tuple[TestClient, TestClient, str], user: str, collection: str
) -> None:
    """Each role and organisation sees, through the lean path, exactly what the route shows it: its own
    organisation's records, generalised hazard geometry for viewers, 404 for an unknown collection."""
    lean, plain, _ = clients
    path = f"/collections/{collection}/items?limit=50"
    _same(lean.get(path, auth=(user, PASSWORD)), plain.get(path, auth=(user, PASSWORD)))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Requested-With": "fetch"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Digest abc"},
        {"Cookie": "sapper_session=unknown"},
    ],
)
def test_credentials_are_judged_as_by_the_route(
    clients: tuple[TestClient, TestClient, str], headers: dict[str, str]
) -> None:
    """Missing or wrong credentials: the route's 401 (with or without the Basic challenge), on the lean path."""
    lean, plain, _ = clients
    a = lean.get("/collections/hazard_areas/items", headers=headers)
    assert a.status_code == 401
    _same(a, plain.get("/collections/hazard_areas/items", headers=headers))


def test_bearer_token_and_wrong_password(clients: tuple[TestClient, TestClient, str]) -> None:
    """A bearer token reads through the lean path; a wrong password is a 401 there as behind FastAPI."""
    lean, plain, token = clients
    bearer = {"Authorization": f"Bearer {token}"}
    a = lean.get("/collections/hazard_areas/items", headers=bearer)
    assert a.status_code == 200 and a.json()["numberReturned"] == 3
    _same(a, plain.get("/collections/hazard_areas/items", headers=bearer))
    _same(
        lean.get("/collections/hazard_areas/items", auth=("ima", "wrong password!")),
        plain.get("/collections/hazard_areas/items", auth=("ima", "wrong password!")),
    )


def test_the_lean_path_answers_without_the_route(store_target: str | Path) -> None:
    """With FastAPI's resolution of the caller overridden to refuse (418), items still answer: the lean path serves
    them, with the security headers; a request it does not take (limit=0, one item) reaches FastAPI and its 418."""
    fill(store_target)
    app = create_app(Settings(db=store_target, data_key=DATA_KEY))

    def refuse() -> Principal:
        raise HTTPProblem(418, "not_lean", "FastAPI's route answered")

    app.dependency_overrides[auth.principal] = refuse
    with TestClient(app) as client:
        r = client.get("/collections/hazard_areas/items?limit=2", auth=("ima", PASSWORD))
        assert r.status_code == 200 and r.json()["numberReturned"] == 2
        assert r.headers["x-frame-options"] == "DENY" and r.headers["content-crs"]
        assert client.get("/collections/hazard_areas/items?limit=0", auth=("ima", PASSWORD)).status_code == 418
        assert client.get("/collections/hazard_areas/items/HA-A1", auth=("ima", PASSWORD)).status_code == 418


@pytest.mark.parametrize(
    ("method", "path", "root_path", "taken"),
    [
        ("GET", "/collections/hazard_areas/items", "", "hazard_areas"),
        ("GET", "/collections/x/items", "", "x"),
        ("HEAD", "/collections/hazard_areas/items", "", None),
        ("POST", "/collections/hazard_areas/items", "", None),
        ("GET", "/collections/hazard_areas/items/", "", None),
        ("GET", "/collections/hazard_areas/items/HA-A1", "", None),
        ("GET", "/collections//items", "", None),
        ("GET", "/collections/a/b/items", "", None),
        ("GET", "/collections/hazard_areas", "", None),
        ("GET", "/collections/hazard_areas/items", "/sapper", None),
    ],
)
def test_which_requests_take_the_lean_path(method: str, path: str, root_path: str, taken: str | None) -> None:
    """Only a GET on exactly /collections/{id}/items, served at the root, takes the lean path."""
    scope = {"type": "http", "method": method, "path": path, "root_path": root_path}
    assert collection_of(scope) == taken
