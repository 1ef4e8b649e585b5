"""A raw-ASGI lane for a service's hottest POST routes, in front of the whole framework stack.

For a single-row score the model takes ~10 us; FastAPI's middleware chain, routing and dependency
solving take several times that (performance.md: raw ASGI 45k : Starlette 21k : FastAPI 8.5k req/s).
The lane serves only the plain success case of the routes a service lists. Anything else (an
Idempotency-Key, a rate-limited deployment, a body without Content-Length or over the size limit, no
valid credentials, a body that does not validate, any error) is handed to the full app with the body
replayed, so refusals are exactly those of every other route. Fast handlers must therefore be free of
side effects: a failed attempt is run again by the full stack.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from shared.http import read_body, replay_body, usable_correlation_id
from shared.identity.keys import Principal
from shared.input_limits import document_limits
from shared.limits import header_size_problem
from shared.observability import CORRELATION_HEADER, HTTP_LATENCY, HTTP_REQUESTS, correlation
from shared.security import security_headers

if TYPE_CHECKING:
    from shared.runtime import Runtime

# (runtime, caller, raw JSON body) -> the JSON answer, or None for "let the full stack answer".
FastHandler = Callable[["Runtime", Principal, bytes], bytes | None]

_CORRELATION = CORRELATION_HEADER.lower().encode()
_JSON = (b"content-type", b"application/json")
_NUL = b"\\u0000"  # how JSON writes a NUL character


class _Route:
    """A handler with its metric series bound once: label lookups cost more than the increment."""

    def __init__(self, service: str, path: str, handler: FastHandler) -> None:
        self.handler = handler
        self.requests = HTTP_REQUESTS.labels(service, "POST", path, "200")
        self.latency = HTTP_LATENCY.labels(service, path)


class ServiceApp(FastAPI):
    """FastAPI plus the fast lane; every other request takes the usual path unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fast: dict[str, _Route] = {}

    def add_fast_route(self, service: str, path: str, handler: FastHandler) -> None:
        self._fast[path] = _Route(service, path, handler)

    def openapi(self) -> dict[str, Any]:
        """The document with the input limits every route applies (shared.input_limits) written in."""
        if self.openapi_schema is None:
            schema = super().openapi()
            if limits := getattr(self.state, "input_limits", None):
                document_limits(schema, limits)
        return super().openapi()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._fast.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "POST":
            await super().__call__(scope, receive, send)
            return
        headers = dict(scope["headers"])
        runtime: Runtime = self.state.runtime
        if not _eligible(headers, runtime) or header_size_problem(scope["headers"]):
            await super().__call__(scope, receive, send)
            return
        body = await read_body(receive)
        if _NUL in body:  # text no column can hold: the full stack's input limits name the field
            await super().__call__(scope, replay_body(body), send)
            return
        started = time.perf_counter()
        with correlation(usable_correlation_id(headers.get(_CORRELATION))) as cid:
            answer = _answer(route, runtime, scope["path"], headers, body)
            if answer is None:
                await super().__call__(scope, replay_body(body), send)
                return
            await send({"type": "http.response.start", "status": 200,
                        "headers": [_JSON, (b"content-length", str(len(answer)).encode()),
                                    (_CORRELATION, cid.encode()), *security_headers(scope)]})  # fmt: skip
            await send({"type": "http.response.body", "body": answer})
        route.requests.inc()
        route.latency.observe(time.perf_counter() - started)


def _eligible(headers: dict[bytes, bytes], runtime: Runtime) -> bool:
    """Only requests whose every check the lane can do itself: idempotency replays, rate limits and
    streamed or oversize bodies stay with their middlewares."""
    if b"idempotency-key" in headers or runtime.settings.rate_limit_per_minute > 0:
        return False
    declared = headers.get(b"content-length", b"")
    limit = runtime.settings.max_body_bytes
    return declared.isdigit() and (limit <= 0 or int(declared) <= limit)


def _answer(
    route: _Route, runtime: Runtime, path: str, headers: dict[bytes, bytes], body: bytes
) -> bytes | None:
    # orgs depends on the runtime module, which imports this one
    from shared.orgs import HEADER_MAX_LENGTH, principal_for

    def text(name: bytes) -> str | None:
        value = headers.get(name)
        if value is None:
            return None
        if len(value) > HEADER_MAX_LENGTH[name.decode()]:
            raise ValueError(f"{name.decode()} too long")  # the full stack's 422 names the header
        return value.decode("latin-1")

    try:
        principal = principal_for(
            runtime, path, text(b"x-org-id"), text(b"x-api-key"), text(b"authorization")
        )
        return route.handler(runtime, principal, body)
    except Exception:  # the full stack turns it into the proper problem response
        return None
