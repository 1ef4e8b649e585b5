"""HTTP plumbing every service shares: correlation ids, request metrics, health and metrics routes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import make_asgi_app
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import problem, unexpected_problem
from shared.limits import BodySizeLimit, RateLimit, header_size_problem
from shared.observability import CORRELATION_HEADER, HTTP_LATENCY, HTTP_REQUESTS, correlation
from shared.security import SecurityHeaders

ReadinessCheck = Callable[[], dict[str, bool]]


class CorrelationMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware) so it costs microseconds on the hot path."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app, self.service = app, service
        self._header = CORRELATION_HEADER.lower().encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(self._header)
        started = time.perf_counter()
        status = 500
        with correlation(usable_correlation_id(incoming)) as cid:

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message.setdefault("headers", []).append((self._header, cid.encode()))
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                HTTP_REQUESTS.labels(self.service, scope["method"], route, str(status)).inc()
                HTTP_LATENCY.labels(self.service, route).observe(time.perf_counter() - started)


class ProblemBoundary:
    """Every error is a problem response: requests whose headers are too large are refused (431) before
    any work, and an exception nobody handled becomes 503 (database down), 422 or 500 problem details
    with the correlation id instead of the server's plain-text 500 (pure ASGI: it also covers the other
    middlewares, e.g. idempotency's database work)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guarded = self._guarded if scope["type"] == "http" else self.app
        await guarded(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        if refusal := header_size_problem(scope.get("headers") or []):
            await problem(431, "headers_too_large", "Request header fields too large", refusal)(
                scope, receive, send
            )
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:  # too late for another status; the server closes the connection
                raise
            await unexpected_problem(exc, f"{scope['method']} {scope['path']}")(scope, receive, send)


def usable_correlation_id(raw: bytes | None) -> str | None:
    """A caller's correlation id if it is short printable ASCII; otherwise we mint our own."""
    if not raw or len(raw) > 128:
        return None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


async def read_body(receive: Receive) -> bytes:
    """The whole request body, for middlewares that must see it before the app does."""
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(parts)


def replay_body(body: bytes) -> Receive:
    """A `receive` that hands an already-read body to the next app, once."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


# The readiness answer, 200 or 503 alike (documented here: the route builds its JSON by hand).
READINESS_SCHEMA = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not_ready"], "description": "ready when every check passed."},
        "checks": {"type": "object", "additionalProperties": {"type": "boolean"},
                   "description": "Each dependency (database, broker, models, consumer) and whether it is ready."},
    },
}  # fmt: skip
LIVENESS_SCHEMA: dict[str, Any] = {
    "type": "object", "description": "The process answers.", "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["live"], "description": "Always `live`."}},
}  # fmt: skip
READINESS_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/json": {"schema": READINESS_SCHEMA}}}
    for status, text in ((200, "Ready to serve."), (503, "Not ready: `checks` names what is not."))
}


def health_router(readiness: ReadinessCheck) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live", response_model=None, summary="Liveness probe", responses={
        200: {"description": "Alive.", "content": {"application/json": {"schema": LIVENESS_SCHEMA}}}})  # fmt: skip
    async def live() -> dict[str, str]:
        """200 while the process answers at all (for a liveness probe: restart when it stops answering)."""
        return {"status": "live"}

    @router.get(
        "/health/ready", response_model=None, responses=READINESS_RESPONSES, summary="Readiness probe"
    )
    async def ready() -> JSONResponse:
        """200 when database, broker, consumer and models are ready; else 503 with the failing `checks`."""
        checks = readiness()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503
        )

    return router


def install_common(
    app: FastAPI,
    service: str,
    readiness: ReadinessCheck,
    max_body_bytes: int = 0,
    rate_limit_per_minute: int = 0,
) -> None:
    app.include_router(health_router(readiness))
    app.mount("/metrics", make_asgi_app())
    # Added last = outermost: the correlation id and metrics also cover refused requests.
    app.add_middleware(RateLimit, per_minute=rate_limit_per_minute)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(ProblemBoundary)  # inside the correlation id, outside every other layer
    app.add_middleware(CorrelationMiddleware, service=service)
    app.add_middleware(SecurityHeaders)  # outermost: refusals and errors carry the headers too
