"""Schemathesis walks each service's OpenAPI with generated requests and every check it has, in both auth
modes on PostgreSQL (the database that refuses what SQLite lets through): no request may cause a 5xx.

Asserted: no server error (counted at the transport, so the checks' own re-sent requests count too) and
no answer the document does not declare (status code or content type); the other checks' findings
(e.g. schemathesis's idea of data the API should accept) are printed.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.broker import Broker
from shared.db import migrate
from shared.runtime import IDENTITY_MIGRATIONS, create_app
from tandem.services import SERVICES

pytestmark = [pytest.mark.integration]
# Derandomized: the same examples every run, so CI is repeatable; TANDEM_FUZZ_EXAMPLES=200 digs deeper.
FUZZ = settings(
    max_examples=int(os.environ.get("TANDEM_FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,
)
ORG = "fuzz"
# Answers the OpenAPI document does not declare for the operation (shared/openapi.py documents the edge's).
UNDOCUMENTED = {"UndefinedStatusCode", "UndefinedContentType"}


class ServerErrors:
    """Every response the app sends, checks' re-sent requests included: the 5xx among them are the bugs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.found: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watch(message: Message) -> None:
            # Readiness answers 503 by contract while the bus connects (each call may start the app's
            # lifespan afresh, and Apache Kafka takes longer to answer than tansu did).
            status = message.get("status", 0) if message["type"] == "http.response.start" else 0
            if status >= 500 and scope.get("path") != "/health/ready":
                self.found.append(f"{scope['method']} {scope['path']} -> {status}")
            await send(message)

        await self.app(scope, receive, watch)


def _walk(schema: schemathesis.BaseSchema, headers: dict[str, str]) -> Counter[str]:
    """Run every operation's generated cases through all checks; the failures by check, for the report."""
    load_all_checks()
    checks = list(CHECKS.get_all())
    failed: Counter[str] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @FUZZ
        def call(case: schemathesis.Case) -> None:
            try:
                case.call_and_validate(headers=headers, checks=checks)
            except (AssertionError, BaseExceptionGroup) as exc:  # a Failure, or a group of them
                for failure in exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]:
                    failed[f"{type(failure).__name__}: {case.method} {case.operation.path}"] += 1

        call()
    return failed


def _app(name: str, mode: str, broker: Broker, tmp_path: Path, database: Callable[[str], str]) -> Any:
    identity = database(f"identity_{name}")
    migrate(identity, IDENTITY_MIGRATIONS)
    entry = SERVICES[name]
    service_settings = entry.settings(data_dir=tmp_path, kafka_bootstrap=broker.bootstrap, consumer_enabled=False,
                                      webhooks_enabled=False, log_level="WARNING", auth_mode=mode,
                                      database_url=database(name), auth_database_url=identity)  # fmt: skip
    return create_app(entry.spec, service_settings)


@pytest.mark.parametrize("mode", ["open", "keys"])
@pytest.mark.parametrize("name", list(SERVICES))
def test_generated_requests_get_documented_answers_and_no_server_error(
    name: str, mode: str, broker: Broker, tmp_path: Path, postgres_database: Callable[[str], str]
) -> None:
    app = _app(name, mode, broker, tmp_path, postgres_database)
    with TestClient(app):  # the lifespan: migrations, models, bus
        headers = {"X-Org-Id": ORG}
        if mode == "keys":
            headers = {"X-API-Key": app.state.runtime.keys.issue(ORG, "admin", "fuzz")}
        watched = ServerErrors(app)
        schema = schemathesis.openapi.from_asgi("/openapi.json", watched)
        assert len(list(schema.get_all_operations())) > 5
        failed = _walk(schema, headers)
    print(f"\n{name} ({mode}): other checks' findings by check and operation:")
    for line, count in sorted(failed.items()):
        print(f"  {count:4d}  {line}")
    assert watched.found == [], "\n".join(sorted(set(watched.found))[:20])
    undocumented = sorted(line for line in failed if line.split(":")[0] in UNDOCUMENTED)
    assert undocumented == [], "\n".join(undocumented[:20])
