"""Request limits every service applies: body size (413) and a rate per API key (429 with headers).

Both are pure ASGI middlewares so they cost microseconds; the rate is per process (a replica), which
keeps one noisy caller from starving a replica without a shared store on the hot path.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import problem

EXEMPT_PREFIXES = ("/health", "/metrics")
# Request headers: 8 KiB per field and 32 KiB in all, like common proxies (nginx's 4 x 8k buffers); our own
# headers are all far shorter, so only abuse reaches these.
MAX_HEADER_FIELD_BYTES = 8 * 1024
MAX_HEADER_BYTES = 32 * 1024


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return bytes(value)
    return None


def header_size_problem(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """Why a request's headers are too large (for a 431), or None when they are fine."""
    total = 0
    for name, value in headers:
        size = len(name) + len(value)
        if size > MAX_HEADER_FIELD_BYTES:
            return f"header {name.decode('latin-1')[:100]} is larger than {MAX_HEADER_FIELD_BYTES} bytes"
        total += size
    if total > MAX_HEADER_BYTES:
        return f"request headers are larger than {MAX_HEADER_BYTES} bytes in all"
    return None


class BodySizeLimit:
    """Refuse bodies above `max_bytes` by Content-Length up front, or while streaming when it is absent."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"request body is larger than {self.max_bytes} bytes"
        await problem(413, "too_large", "Request body too large", detail)(scope, receive, send)


class _TooLarge(Exception):
    pass


class TokenBucket:
    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> tuple[bool, float]:
        """(allowed, tokens left) after trying to take one token now."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True, self.tokens
        return False, self.tokens


class RateLimit:
    """Per-caller token buckets; callers are told their quota in RateLimit-* headers (IETF draft)."""

    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app, self.per_minute = app, per_minute
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def _caller(self, scope: Scope) -> str:
        credential = (
            _header(scope, b"x-api-key") or _header(scope, b"authorization") or _header(scope, b"x-org-id")
        )
        if credential:
            return hashlib.sha256(credential).hexdigest()[:32]
        client = scope.get("client")
        return f"ip:{client[0] if client else 'unknown'}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or self.per_minute <= 0 or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        caller = self._caller(scope)
        with self._lock:
            bucket = self._buckets.get(caller)
            if bucket is None:
                if len(self._buckets) > 100_000:
                    self._buckets.clear()
                bucket = self._buckets[caller] = TokenBucket(self.per_minute)
            allowed, left = bucket.take()
        reset = math.ceil((bucket.capacity - left) / bucket.rate)
        headers = [
            (b"ratelimit-limit", str(self.per_minute).encode()),
            (b"ratelimit-remaining", str(int(left)).encode()),
            (b"ratelimit-reset", str(reset).encode()),
            (b"ratelimit-policy", f"{self.per_minute};w=60".encode()),
        ]
        if not allowed:
            retry = max(1, math.ceil((1 - left) / bucket.rate))
            response = problem(
                429,
                "rate_limited",
                "Too many requests",
                f"limit is {self.per_minute} per minute; retry in {retry} s",
            )
            response.headers["Retry-After"] = str(retry)
            response.raw_headers.extend(headers)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)
