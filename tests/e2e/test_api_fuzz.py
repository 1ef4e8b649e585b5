"""Schemathesis walks each service's OpenAPI with generated requests: no request may cause a 5xx, and every
status code and content type answered is one the document declares for that operation."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from shared.broker import Broker
from shared.runtime import create_app
from tandem.services import SERVICES

pytestmark = [pytest.mark.integration]
# Derandomized: the same examples every run, so CI is repeatable; raise max_examples locally to dig deeper.
FUZZ = settings(
    max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
)


# The document promises these for every answer (shared/api_docs.py documents the edge's errors).
CONFORMANCE = [status_code_conformance, content_type_conformance]


def _titles(exc: AssertionError | FailureGroup) -> str:
    """The failures' names (their full text may embed a binary body)."""
    return "; ".join(getattr(e, "title", type(e).__name__) for e in getattr(exc, "exceptions", [exc]))


def _failures(schema: schemathesis.BaseSchema) -> list[str]:
    found: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @FUZZ
        def call(case: schemathesis.Case) -> None:
            response = case.call()
            # Readiness answers 503 by contract while the bus connects (each call may start the app's
            # lifespan afresh, and Apache Kafka takes longer to answer than tansu did).
            if response.status_code == 503 and case.formatted_path == "/health/ready":
                return
            where = f"{case.method} {case.formatted_path} -> {response.status_code}"
            if response.status_code >= 500:
                found.append(f"{where}: {response.text[:200]}")
            try:
                case.validate_response(response, checks=CONFORMANCE)
            except (AssertionError, FailureGroup) as exc:  # one failure, or several
                found.append(f"{where}: {_titles(exc)}")

        call()
    return found


@pytest.mark.parametrize("name", list(SERVICES))
def test_generated_requests_get_documented_answers_and_no_server_error(
    name: str, broker: Broker, tmp_path: Path
) -> None:
    entry = SERVICES[name]
    service_settings = entry.settings(data_dir=tmp_path, kafka_bootstrap=broker.bootstrap, consumer_enabled=False,
                                      webhooks_enabled=False, log_level="WARNING")  # fmt: skip
    app = create_app(entry.spec, service_settings)
    with TestClient(app):  # the lifespan: migrations, models, bus
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = list(schema.get_all_operations())
        assert len(operations) > 5
        errors = _failures(schema)
    assert errors == [], "\n".join(sorted(set(errors))[:20])
