"""Body size and rate limits answer with problem details and the standard headers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from shared.errors import install_error_handlers
from shared.http import install_common


def _client(max_body_bytes: int = 0, per_minute: int = 0) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    install_common(
        app, "t", lambda: {"ok": True}, max_body_bytes=max_body_bytes, rate_limit_per_minute=per_minute
    )

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return TestClient(app)


def test_body_over_the_limit_gets_413_problem() -> None:
    r = _client(max_body_bytes=100).post("/echo", content=b"x" * 101)
    assert r.status_code == 413
    assert r.json()["code"] == "too_large"
    assert r.headers["content-type"].startswith("application/problem+json")


def test_streamed_body_without_length_is_counted() -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(5):
            yield b"x" * 50

    r = _client(max_body_bytes=100).post("/echo", content=chunks())
    assert r.status_code == 413


def test_body_within_the_limit_passes() -> None:
    assert _client(max_body_bytes=100).post("/echo", content=b"x" * 100).json() == {"bytes": 100}


def test_rate_limit_sends_quota_headers_then_429_with_retry_after() -> None:
    client = _client(per_minute=3)
    key = {"X-API-Key": "tdm_a.b"}
    first = client.post("/echo", headers=key)
    assert first.headers["ratelimit-limit"] == "3"
    assert first.headers["ratelimit-remaining"] == "2"
    client.post("/echo", headers=key)
    client.post("/echo", headers=key)
    refused = client.post("/echo", headers=key)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-remaining"] == "0"


def test_rate_limit_is_per_key_and_spares_health() -> None:
    client = _client(per_minute=1)
    assert client.post("/echo", headers={"X-API-Key": "tdm_a.b"}).status_code == 200
    assert client.post("/echo", headers={"X-API-Key": "tdm_c.d"}).status_code == 200
    assert client.post("/echo", headers={"X-API-Key": "tdm_a.b"}).status_code == 429
    for _ in range(3):
        assert client.get("/health/live").status_code == 200
