"""Every error is RFC 9457 problem details with a machine-readable code."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from sqlalchemy import create_engine, text

from shared.errors import (
    PROBLEM_JSON,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    database_unavailable,
    install_error_handlers,
    unexpected_problem,
)
from shared.http import CorrelationMiddleware


class Item(BaseModel):
    name: str
    count: int = Field(ge=1)


class Route(BaseModel):
    path: int
    query: str


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/items")
    async def create(item: Item) -> dict[str, int]:
        return {"count": item.count}

    @app.get("/things/{thing_id}")
    async def get_thing(thing_id: str) -> dict[str, str]:
        raise NotFound(f"no thing {thing_id!r}", field="thing_id")

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict("already decided")

    @app.get("/forbidden")
    async def forbidden() -> None:
        raise Forbidden("not yours")

    @app.get("/invalid")
    async def invalid() -> None:
        raise Invalid("two problems", errors=[{"field": "a", "reason": "x"}, {"field": "b", "reason": "y"}])

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app())


def test_validation_error_returns_422_problem_with_field(client: TestClient) -> None:
    resp = client.post("/items", json={"name": "a", "count": 0})
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    body = resp.json()
    assert body["code"] == "validation_error"
    assert body["status"] == 422
    assert body["type"].endswith("/validation_error")
    assert [e["field"] for e in body["errors"]] == ["count"]
    assert "count" in body["detail"]


def test_validation_error_names_missing_field(client: TestClient) -> None:
    body = client.post("/items", json={"count": 2}).json()
    assert body["code"] == "validation_error"
    assert {e["field"] for e in body["errors"]} == {"name"}
    assert all(e["reason"] for e in body["errors"])


def test_validation_error_for_malformed_body_is_problem(client: TestClient) -> None:
    resp = client.post("/items", content=b"{oops", headers={"content-type": "application/json"})
    assert resp.status_code == 422
    assert resp.json()["code"] == "validation_error"


def test_valid_request_passes_through(client: TestClient) -> None:
    resp = client.post("/items", json={"name": "a", "count": 3})
    assert resp.status_code == 200
    assert resp.json() == {"count": 3}


def test_not_found_returns_404_problem_with_field(client: TestClient) -> None:
    resp = client.get("/things/t-1")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    body = resp.json()
    assert body["code"] == "not_found"
    assert body["title"] == "Not found"
    assert body["detail"] == "no thing 't-1'"
    assert body["errors"] == [{"field": "thing_id", "reason": "no thing 't-1'"}]
    assert "correlation_id" not in body


def test_conflict_returns_409_without_errors_list(client: TestClient) -> None:
    resp = client.get("/conflict")
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "conflict"
    assert "errors" not in body


def test_forbidden_returns_403(client: TestClient) -> None:
    resp = client.get("/forbidden")
    assert (resp.status_code, resp.json()["code"]) == (403, "forbidden")


def test_invalid_keeps_explicit_errors(client: TestClient) -> None:
    body = client.get("/invalid").json()
    assert body["status"] == 422
    assert [e["field"] for e in body["errors"]] == ["a", "b"]


def test_unknown_route_returns_not_found_problem(client: TestClient) -> None:
    resp = client.get("/nowhere")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    assert resp.json()["code"] == "not_found"


def test_wrong_method_returns_method_not_allowed_problem(client: TestClient) -> None:
    resp = client.delete("/items")
    assert resp.status_code == 405
    assert resp.json()["code"] == "method_not_allowed"


def test_problem_carries_correlation_id_behind_middleware() -> None:
    app = _app()
    app.add_middleware(CorrelationMiddleware, service="errors-test")
    resp = TestClient(app).get("/things/t-2", headers={"X-Correlation-ID": "cid-42"})
    assert resp.status_code == 404
    assert resp.json()["correlation_id"] == "cid-42"
    assert resp.headers["x-correlation-id"] == "cid-42"


def test_validation_error_keeps_field_named_like_a_location() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/routes")
    async def create(route: Route) -> dict[str, int]:
        return {"path": route.path}

    body = TestClient(app).post("/routes", json={"path": "x"}).json()
    assert sorted(e["field"] for e in body["errors"]) == ["path", "query"]


def _raised(url: str, sql: str) -> BaseException:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    except Exception as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("no error")


def test_database_outages_are_told_from_failing_statements(tmp_path: Path) -> None:
    outage = _raised(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}", "SELECT 1")
    bug = _raised(f"sqlite:///{tmp_path / 'x.db'}", "SELECT * FROM no_such_table")
    refused = _raised("postgresql+psycopg://postgres@127.0.0.1:9/x?connect_timeout=2", "SELECT 1")
    assert database_unavailable(outage) and database_unavailable(refused)
    assert not database_unavailable(bug) and not database_unavailable(ValueError("x"))
    assert unexpected_problem(ExceptionGroup("wrapped", [refused])).status_code == 503  # type: ignore[list-item]
    assert unexpected_problem(bug).status_code == 500  # type: ignore[arg-type]
