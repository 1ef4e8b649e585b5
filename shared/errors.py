"""One error hierarchy and one handler: every error is RFC 9457 problem details with a machine code."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.observability import current_correlation_id

PROBLEM_JSON = "application/problem+json"


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
    status: int, code: str, title: str, detail: str, errors: list[dict[str, Any]] | None = None
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
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "brief", "path")` -> `brief.path`: only the leading location names the source."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TandemError)
    async def _domain(_: Request, exc: TandemError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.title, exc.detail, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(e.get("loc", ())), "reason": e.get("msg", "invalid")} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        return problem(422, "validation_error", "Request failed validation", detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail))
