"""HTTP plumbing: correlation ids, request metrics and the health routes."""

from __future__ import annotations

import asyncio
import contextlib
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from shared.errors import PROBLEM_JSON, install_error_handlers
from shared.http import CorrelationMiddleware, health_router, install_common
from shared.limits import MAX_HEADER_BYTES, MAX_HEADER_FIELD_BYTES
from shared.observability import current_correlation_id

SERVICE = "http-test"


def _app(checks: dict[str, bool]) -> FastAPI:
    app = FastAPI()
    app.include_router(health_router(lambda: dict(checks)))
    app.add_middleware(CorrelationMiddleware, service=SERVICE)

    @app.get("/whoami")
    async def whoami() -> dict[str, str | None]:
        return {"correlation_id": current_correlation_id()}

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app({"database": True, "broker": True}))


def test_middleware_echoes_incoming_correlation_id(client: TestClient) -> None:
    resp = client.get("/whoami", headers={"X-Correlation-ID": "abc-123"})
    assert resp.status_code == 200
    assert resp.headers["x-correlation-id"] == "abc-123"
    assert resp.json() == {"correlation_id": "abc-123"}


def test_middleware_creates_correlation_id_when_absent(client: TestClient) -> None:
    first = client.get("/whoami")
    second = client.get("/whoami")
    cid = first.headers["x-correlation-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", cid)
    assert first.json()["correlation_id"] == cid
    assert second.headers["x-correlation-id"] != cid


def test_middleware_leaves_no_correlation_id_behind(client: TestClient) -> None:
    client.get("/whoami", headers={"X-Correlation-ID": "abc-123"})
    assert current_correlation_id() is None


def test_middleware_counts_requests_by_route_template(client: TestClient) -> None:
    labels = {"service": SERVICE, "method": "GET", "route": "/items/{item_id}", "status": "200"}
    before = REGISTRY.get_sample_value("tandem_http_requests_total", labels) or 0.0
    client.get("/items/one")
    client.get("/items/two")
    assert REGISTRY.get_sample_value("tandem_http_requests_total", labels) == before + 2


def test_live_returns_200(client: TestClient) -> None:
    resp = client.get("/health/live")
    assert (resp.status_code, resp.json()) == (200, {"status": "live"})


def test_ready_returns_200_when_all_checks_pass(client: TestClient) -> None:
    resp = client.get("/health/ready")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ready", "checks": {"database": True, "broker": True}}


def test_ready_returns_503_when_a_check_fails() -> None:
    resp = TestClient(_app({"database": True, "broker": False})).get("/health/ready")
    assert resp.status_code == 503
    assert resp.json() == {"status": "not_ready", "checks": {"database": True, "broker": False}}


def test_ready_rereads_checks_on_every_request() -> None:
    checks = {"database": False}
    app = FastAPI()
    app.include_router(health_router(lambda: dict(checks)))
    client = TestClient(app)
    assert client.get("/health/ready").status_code == 503
    checks["database"] = True
    assert client.get("/health/ready").status_code == 200


def test_install_common_adds_health_metrics_and_correlation() -> None:
    app = FastAPI()
    install_common(app, "common-test", lambda: {"database": False})
    client = TestClient(app)
    resp = client.get("/health/ready", headers={"X-Correlation-ID": "c-9"})
    assert resp.status_code == 503
    assert resp.headers["x-correlation-id"] == "c-9"
    metrics = client.get("/metrics/")
    assert metrics.status_code == 200
    assert "tandem_http_requests_total" in metrics.text


def test_middleware_serves_request_with_non_utf8_correlation_id() -> None:
    app = _app({"database": True})
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/health/live", "raw_path": b"/health/live", "root_path": "", "query_string": b"",
        "headers": [(b"host", b"test"), (b"x-correlation-id", b"caf\xe9")], "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }  # fmt: skip
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    with contextlib.suppress(UnicodeDecodeError):  # ServerErrorMiddleware re-raises after sending its 500
        asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 200


def _guarded_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_common(app, "boundary-test", lambda: {"database": True})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail: /srv/app.py line 12")

    @app.get("/things")
    async def list_things() -> list[str]:
        return []

    @app.post("/things")
    async def add_thing() -> dict[str, str]:
        return {}

    return app


@pytest.fixture(scope="module")
def guarded() -> TestClient:
    return TestClient(_guarded_app(), raise_server_exceptions=False)


def test_unexpected_error_is_a_500_problem_with_correlation_id_and_no_details(guarded: TestClient) -> None:
    resp = guarded.get("/boom", headers={"X-Correlation-ID": "c-500"})
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    body = resp.json()
    assert body["code"] == "internal_error" and body["correlation_id"] == "c-500"
    assert "secret" not in resp.text and resp.headers["x-correlation-id"] == "c-500"


def test_method_not_allowed_lists_every_method_of_the_path(guarded: TestClient) -> None:
    resp = guarded.delete("/things")
    assert resp.status_code == 405
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    assert resp.headers["allow"] == "GET, POST"


def test_oversized_headers_are_a_431_problem(guarded: TestClient) -> None:
    one = guarded.get("/things", headers={"X-Filler": "x" * (MAX_HEADER_FIELD_BYTES + 1)})
    many = guarded.get(
        "/things", headers={f"X-Filler-{i}": "x" * 4000 for i in range(MAX_HEADER_BYTES // 4000 + 1)}
    )
    for resp in (one, many):
        assert resp.status_code == 431
        assert resp.headers["content-type"].startswith(PROBLEM_JSON)
        assert resp.json()["code"] == "headers_too_large" and resp.json()["correlation_id"]
    assert guarded.get("/things", headers={"X-Filler": "x" * 4000}).status_code == 200
