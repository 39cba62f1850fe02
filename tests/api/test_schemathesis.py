"""Property-based tests of the whole OpenAPI document with schemathesis: every operation, called with generated
parameters and bodies by an authenticated admin and a viewer, in process (ASGI) against the real app over a filled
store (a GeoPackage, and a PostGIS database). No answer may be a server error (5xx), and every answer must match the
document: its status is one the operation declares, its body validates against the declared schema and its content
type is the declared one.

Bounded for the suite (``EXAMPLES`` cases per operation and caller, no shrinking of passing runs, a fixed seed);
``SAPPER_SCHEMATHESIS_EXAMPLES=N`` runs more (docs/reliability.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sapper.api import Settings, create_app
from tests.api.conftest import DATA_KEY, PASSWORD, fill

#: Cases per operation and caller in the suite.
EXAMPLES = int(os.environ.get("SAPPER_SCHEMATHESIS_EXAMPLES", "4"))
CALLERS = ("admin", "viewer")


def not_a_server_error(ctx: object, response: schemathesis.Response, case: schemathesis.Case) -> bool:
    """A 5xx is a failure, whatever the document says."""
    if response.status_code >= 500:
        raise AssertionError(
            f"{case.method} {case.formatted_path} answered {response.status_code}: {response.text[:300]}"
        )
    return True


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def schema(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    """The app's OpenAPI document as schemathesis reads it, served over a filled GeoPackage or PostGIS store."""
    server = request.getfixturevalue("postgis") if request.param == "postgis" else None
    target: str | Path = (tmp_path_factory.mktemp("schemathesis") / "sapper.gpkg" if server is None
                          else server.new_store_database())
    fill(target)
    app = create_app(Settings(db=target, data_key=DATA_KEY))
    # Not generated: starting a plan job (a background CP-SAT run of up to time_limit_s = 3,600 s, which would outlive
    # the test and abort the interpreter at exit); tests/api/test_jobs_api.py covers it.
    yield schemathesis.openapi.from_asgi("/api", app).exclude(method="POST", path="/api/v1/plans/jobs")
    if server is not None:
        server.drop(str(target))  # its own database, dropped with the app's connections still open (FORCE)


def _failures(schema: schemathesis.BaseSchema, caller: str) -> list[str]:
    found: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @seed(2026)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(auth=(caller, PASSWORD), checks=CHECKS)

        try:
            call()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; the failures are listed together
            found.append(f"{operation.label}: {' '.join(str(exc).split())[:400]}")
    return found


@pytest.mark.parametrize("caller", CALLERS)
def test_every_operation_answers_without_server_error_and_as_documented(
    schema: schemathesis.BaseSchema, caller: str
) -> None:
    """Every operation of the OpenAPI document (but starting a plan job), called by ``caller`` with generated input:
    no 5xx, every answer as the document declares (status, content type, body)."""
    operations = list(schema.get_all_operations())
    assert len(operations) >= 40  # the whole document, not a part of it
    failures = _failures(schema, caller)
    assert failures == [], "\n".join(failures)


#: Scenarios and steps per scenario of the stateful phase in the suite.
SCENARIOS = int(os.environ.get("SAPPER_SCHEMATHESIS_SCENARIOS", "5"))


def test_stateful_scenarios_answer_without_server_error_and_as_documented(schema: schemathesis.BaseSchema) -> None:
    """The stateful phase: chains of calls by an admin, each using what an earlier answer returned (links schemathesis
    infers from the document: an id a POST returned, then GET, PATCH, DELETE of it), every answer checked as above."""
    machine = schema.as_state_machine()

    class AsAdmin(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"auth": ("admin", PASSWORD)}

        def validate_response(
            self,
            response: schemathesis.Response,
            case: schemathesis.Case,
            additional_checks: object = None,
            **kwargs: object,
        ) -> None:
            case.validate_response(response, checks=CHECKS)

    AsAdmin.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
    )
