"""`Idempotency-Key` on POST: the first response is stored and replayed to every retry of the same request.

A retry with the same key but another body is refused (422), and one that arrives while the first is
still running gets 409 with Retry-After. Server errors are not stored, so those may be retried.
Records live in the identity database (cluster-wide) for 24 hours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from anyio import to_thread
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import Database
from shared.errors import TandemError, problem
from shared.http import read_body, replay_body
from shared.identity.models import IdempotencyRecord

HEADER = b"idempotency-key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Response fields that carry a secret shown once; never stored in a record (see `without_secrets`).
SECRET_FIELDS = frozenset({"secret", "api_key", "password"})


@dataclass(frozen=True)
class Stored:
    status_code: int | None
    fingerprint: str
    headers: list[list[str]]
    body: bytes


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def begin(self, caller: str, key: str, method: str, path: str, fingerprint: str) -> Stored | None:
        """Claim the key (None) or return what is already recorded under it."""
        now = datetime.now(UTC)
        try:
            with self.db.transaction() as s:
                row = s.get(IdempotencyRecord, (caller, key))
                if row is not None and row.created_at.replace(tzinfo=UTC) > now - TTL:
                    return Stored(row.status_code, row.fingerprint, row.headers, row.body)
                if row is not None:
                    s.delete(row)
                    s.flush()
                s.add(IdempotencyRecord(caller=caller, key=key, method=method, path=path,
                                        fingerprint=fingerprint, created_at=now))  # fmt: skip
        except IntegrityError:
            return self.begin(caller, key, method, path, fingerprint)  # lost a race: read the winner's row
        return None

    def complete(self, caller: str, key: str, status: int, headers: list[list[str]], body: bytes) -> None:
        with self.db.transaction() as s:
            row = s.get(IdempotencyRecord, (caller, key))
            if row is not None:
                row.status_code, row.headers, row.body = status, headers, body
                s.add(row)

    def release(self, caller: str, key: str) -> None:
        with self.db.transaction() as s:
            s.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.caller) == caller,
                                                      col(IdempotencyRecord.key) == key))  # fmt: skip


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((bytes(v) for k, v in scope.get("headers") or [] if k == name), None)


class IdempotencyMiddleware:
    """Pure ASGI; looks up the store on the app's runtime so it works with lifespan-owned resources."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key_raw = _header(scope, HEADER) if scope["type"] == "http" and scope["method"] == "POST" else None
        runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
        store: IdempotencyStore | None = getattr(runtime, "idempotency", None)
        if key_raw is None or store is None:
            await self.app(scope, receive, send)
            return
        key = key_raw.decode("latin-1")
        if not key or len(key) > MAX_KEY_LENGTH:
            await problem(
                400, "bad_idempotency_key", "Bad Idempotency-Key", f"1-{MAX_KEY_LENGTH} characters"
            )(scope, receive, send)
            return
        refusal = await to_thread.run_sync(_refusal, runtime, scope)
        if refusal is not None:
            # A revoked or unknown key gets no replay of what it stored while it was valid.
            await refusal(scope, receive, send)
            return
        body = await read_body(receive)
        credential = (
            _header(scope, b"x-api-key") or _header(scope, b"authorization") or _header(scope, b"x-org-id")
        )
        caller = hashlib.sha256(credential or b"anonymous").hexdigest()
        fingerprint = hashlib.sha256(
            scope["method"].encode() + scope["path"].encode() + b"\n" + body
        ).hexdigest()
        stored = await to_thread.run_sync(
            store.begin, caller, key, scope["method"], scope["path"], fingerprint
        )
        if stored is not None:
            await _answer_from_record(stored, fingerprint, scope, receive, send)
            return
        await self._run_and_record(store, caller, key, body, scope, send)

    async def _run_and_record(
        self, store: IdempotencyStore, caller: str, key: str, body: bytes, scope: Scope, send: Send
    ) -> None:
        status, headers, chunks = 500, [], []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body(body), capture)
        finally:
            if status < 500:
                kept_headers, kept_body = without_secrets(headers, b"".join(chunks))
                await to_thread.run_sync(store.complete, caller, key, status, kept_headers, kept_body)
            else:
                await to_thread.run_sync(store.release, caller, key)


def _redact(value: object) -> tuple[object, bool]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        hit = False
        for k, v in value.items():
            if k in SECRET_FIELDS and v is not None:
                out[k], hit = None, True
            else:
                out[k], sub = _redact(v)
                hit = hit or sub
        return out, hit
    if isinstance(value, list):
        items = [_redact(v) for v in value]
        return [v for v, _ in items], any(h for _, h in items)
    return value, False


def without_secrets(headers: list[list[str]], body: bytes) -> tuple[list[list[str]], bytes]:
    """What an idempotency record keeps of a response: secrets shown once (a webhook signing secret, a
    new API key) are nulled, so the record never holds them and a replay never shows them again. The
    replay says so in `Idempotent-Redacted`; a client that lost the answer rotates the secret."""
    if not any(k.lower() == "content-type" and "json" in v for k, v in headers):
        return headers, body
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return headers, body
    redacted, hit = _redact(parsed)
    if not hit:
        return headers, body
    kept = [[k, v] for k, v in headers if k.lower() != "content-length"]
    return [*kept, ["idempotent-redacted", ",".join(sorted(SECRET_FIELDS))]], orjson.dumps(redacted)


def _refusal(runtime: object, scope: Scope) -> Response | None:
    """The 401/422 answer for a request whose credentials do not authenticate (keys mode), else None."""
    settings = getattr(runtime, "settings", None)
    if settings is None or settings.auth_mode != "keys":
        return None
    from shared.orgs import HEADER_MAX_LENGTH, principal_for  # orgs imports the runtime, which imports us

    def text(name: bytes) -> str | None:
        value = _header(scope, name)
        return value.decode("latin-1")[: HEADER_MAX_LENGTH[name.decode()]] if value is not None else None

    try:
        principal_for(runtime, scope["path"], text(b"x-org-id"), text(b"x-api-key"), text(b"authorization"))  # type: ignore[arg-type]
    except TandemError as exc:
        return problem(exc.status, exc.code, exc.title, exc.detail, exc.errors)
    return None


async def _answer_from_record(
    stored: Stored, fingerprint: str, scope: Scope, receive: Receive, send: Send
) -> None:
    if stored.fingerprint != fingerprint:
        detail = "this Idempotency-Key was used with a different request; use a new key for a new request"
        await problem(422, "idempotency_key_reused", "Idempotency-Key reused", detail)(scope, receive, send)
        return
    if stored.status_code is None:
        response = problem(
            409,
            "idempotency_in_progress",
            "Request in progress",
            "the first request with this key is still running",
        )
        response.headers["Retry-After"] = "1"
        await response(scope, receive, send)
        return
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.headers]
    await send({"type": "http.response.start", "status": stored.status_code,
                "headers": [*headers, (b"idempotent-replayed", b"true")]})  # fmt: skip
    await send({"type": "http.response.body", "body": stored.body})
