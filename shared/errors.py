"""One error hierarchy and one handler: every error is RFC 9457 problem details with a machine code."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.observability import current_correlation_id

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
# How long a client should wait after a database outage before trying again: the pool's pre-ping
# reconnects on the next checkout, so a short wait is enough once the database is back.
DATABASE_RETRY_AFTER_S = 5
# SQLite's ways of saying "the file is not usable now" (gone, locked, read-only, I/O), as opposed to bugs
# such as a missing table, which stay 500s.
_SQLITE_UNAVAILABLE = ("unable to open", "database is locked", "disk i/o error", "readonly database")


class TandemError(Exception):
    """A domain error a client can act on."""

    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or ([{"field": field, "reason": detail}] if field else [])


class NotFound(TandemError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(TandemError):
    status, code, title = 409, "conflict", "Conflict"


class Invalid(TandemError):
    status, code, title = 422, "invalid", "Invalid request"


class Unauthorized(TandemError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(TandemError):
    status, code, title = 403, "forbidden", "Forbidden"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://tandem.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if cid := current_correlation_id():
        body["correlation_id"] = cid
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or used just now (a retry later can succeed), on PostgreSQL or
    SQLite; a failing statement (a bug, a constraint) is not an outage."""
    if isinstance(exc, sa.DisconnectionError | sa.TimeoutError | psycopg.OperationalError):
        return True
    if not isinstance(exc, sa.DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    return isinstance(exc.orig, sqlite3.OperationalError) and any(
        s in str(exc.orig).lower() for s in _SQLITE_UNAVAILABLE
    )


def unexpected_problem(exc: Exception, where: str = "") -> JSONResponse:
    """The answer to an exception nobody handled: 503 + Retry-After for a database outage, 422 for a value
    a column cannot hold (the limits in shared.input_limits should have caught it first), else 500. The
    details go to the log under the response's correlation id, never to the caller."""
    while isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:  # task groups wrap what they raise
        exc = exc.exceptions[0]
    if database_unavailable(exc):
        log.warning(
            "database unavailable",
            extra={"fields": {"request": where, "error": str(exc).splitlines()[0][:300]}},
        )
        return problem(503, "database_unavailable", "Service unavailable",
                       "the database is not reachable just now; retry later",
                       headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)})  # fmt: skip
    if isinstance(exc, sa.DataError):
        log.warning(
            "value refused by the database",
            extra={"fields": {"request": where, "error": str(exc.orig)[:300]}},
        )
        reason = str(exc.orig).splitlines()[0][:200]  # the database's one-line reason, without the SQL
        return problem(422, "invalid", "Invalid request", f"a value does not fit its column: {reason}")
    log.error("unhandled error", exc_info=exc, extra={"fields": {"request": where}})
    return problem(500, "internal_error", "Internal server error",
                   "an unexpected error; quote the correlation_id when you report it")  # fmt: skip


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "brief", "path")` -> `brief.path`: only the leading location names the source."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves at this path (a path can have one route per method)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**request.scope, "method": "OPTIONS"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


# Why a request's caller may not call the route it reached (401/403), or None (shared.orgs.refusal).
Refusal = Callable[[Request], "TandemError | None"]


def install_error_handlers(app: FastAPI, refusal: Refusal | None = None) -> None:
    """The problem handlers; with `refusal`, a request refused for its input is first asked whether its
    caller may call the route at all, so people without access hear only that (401/403)."""

    async def refused(request: Request) -> JSONResponse | None:
        denied = await run_in_threadpool(refusal, request) if refusal else None
        return _domain_problem(denied) if denied else None

    @app.exception_handler(TandemError)
    async def _domain(_: Request, exc: TandemError) -> JSONResponse:
        return _domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if denied := await refused(request):
            return denied
        errors = [
            {"field": _field(e.get("loc", ())), "reason": e.get("msg", "invalid")} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        return problem(422, "validation_error", "Request failed validation", detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and (denied := await refused(request)):  # a body FastAPI could not parse
            return denied
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110: a 405 lists the methods the resource does support
            headers["Allow"] = ", ".join(allowed_methods(app, request))
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail), headers=headers)


def _domain_problem(exc: TandemError) -> JSONResponse:
    return problem(exc.status, exc.code, exc.title, exc.detail, exc.errors)
