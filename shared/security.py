"""Browser-facing hardening every service shares: security headers on every response, and the refusal
to run in keys mode (production) with secrets anyone could know."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]

_BASE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from jsDelivr and start them inline.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)
_COMMON: Headers = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000")
DOCS_PATHS = ("/docs", "/redoc")


def security_headers(scope: Scope) -> Headers:
    """The headers for a response to `scope` (HSTS only over HTTPS, as the trusted proxy reports it)."""
    csp = _DOCS_CSP if scope.get("path", "").startswith(DOCS_PATHS) else _BASE_CSP
    out = [(b"content-security-policy", csp.encode()), *_COMMON]
    return [*out, _HSTS] if scope.get("scheme") == "https" else out


class SecurityHeaders:
    """Pure ASGI: adds the headers a response does not set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {bytes(k).lower() for k, _ in headers}
                headers.extend((k, v) for k, v in extra if k not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Values shipped in examples and compose files over the project's life: never acceptable in keys mode.
KNOWN_SECRETS = frozenset({"change-me-in-production", "changeme", "change-me", "secret", "dev", "test"})
MIN_SECRET_LENGTH = 32


class InsecureSettings(RuntimeError):
    """Keys mode with a secret that is missing, short or publicly known: the service will not start."""


def secret_problem(name: str, value: str) -> str | None:
    """Why `value` is not a production secret for the setting `name`, or None."""
    if not value:
        return f"{name} is not set"
    if value.lower() in KNOWN_SECRETS:
        return f"{name} is a published default"
    if len(value) < MIN_SECRET_LENGTH:
        return f"{name} is shorter than {MIN_SECRET_LENGTH} characters"
    return None
