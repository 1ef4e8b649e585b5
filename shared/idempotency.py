"""`Idempotency-Key` on POST: the first response is stored and replayed to every retry of the same request.

A retry with the same key but another body is refused (422), and one that arrives while the first is
still running gets 409 with Retry-After. Server errors are not stored, so those may be retried.
The request that claims a key owns it under a lease, renewed while it runs; a request killed mid-way
stops renewing, and once its lease expires a retry takes the key over instead of getting 409 until the
record expires. Records live in the identity database (cluster-wide) for 24 hours.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
from anyio import to_thread
from sqlalchemy import CursorResult, update
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
# Long enough that a busy database does not let a live request's lease lapse between renewals (every
# third of it), short enough that a client retrying a dead request waits well under a minute.
LEASE = timedelta(seconds=30)
MAX_KEY_LENGTH = 255
# Response fields that carry a secret shown once; never stored in a record (see `without_secrets`).
SECRET_FIELDS = frozenset({"secret", "api_key", "password"})


@dataclass(frozen=True)
class Stored:
    status_code: int | None
    fingerprint: str
    headers: list[list[str]]
    body: bytes
    retry_after_s: int = 1  # while in progress: until the owner's lease ends


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _is_key(caller: str, key: str) -> Any:
    return (col(IdempotencyRecord.caller) == caller) & (col(IdempotencyRecord.key) == key)


class IdempotencyStore:
    def __init__(self, db: Database, lease: timedelta = LEASE) -> None:
        self.db, self.lease = db, lease

    def begin(
        self, caller: str, key: str, method: str, path: str, fingerprint: str, owner: str
    ) -> Stored | None:
        """Claim the key for `owner` (None) or return what is already recorded under it.

        An unfinished record whose owner's lease has lapsed (its request died) is taken over by a retry
        of the same request; of several retries at once, one wins and the others see it in progress."""
        now = datetime.now(UTC)
        try:
            with self.db.transaction() as s:
                row = s.get(IdempotencyRecord, (caller, key))
                if row is not None and _utc(row.created_at) > now - TTL:  # type: ignore[operator]
                    lease_until = _utc(row.lease_until)
                    lapsed = lease_until is None or lease_until <= now
                    if row.status_code is None and row.fingerprint == fingerprint and lapsed:
                        if self._take_over(s, row, owner, now):
                            return None
                        s.refresh(row)
                        lease_until = _utc(row.lease_until)
                    wait = (lease_until - now).total_seconds() if lease_until else 1
                    return Stored(row.status_code, row.fingerprint, row.headers, row.body,
                                  retry_after_s=max(1, math.ceil(wait)))  # fmt: skip
                if row is not None:
                    s.delete(row)
                    s.flush()
                s.add(IdempotencyRecord(caller=caller, key=key, method=method, path=path, fingerprint=fingerprint,
                                        owner=owner, lease_until=now + self.lease, created_at=now))  # fmt: skip
        except IntegrityError:
            return self.begin(
                caller, key, method, path, fingerprint, owner
            )  # lost a race: read the winner's row
        return None

    def _take_over(self, s: Any, row: IdempotencyRecord, owner: str, now: datetime) -> bool:
        """Move the key to `owner` unless another retry moved it first (the old owner is the guard)."""
        taken = s.execute(update(IdempotencyRecord).where(
            _is_key(row.caller, row.key), col(IdempotencyRecord.owner) == row.owner,
            col(IdempotencyRecord.status_code).is_(None),
        ).values(owner=owner, lease_until=now + self.lease))  # fmt: skip
        return bool(cast(CursorResult[Any], taken).rowcount)

    def renew(self, caller: str, key: str, owner: str) -> bool:
        """Extend the owner's lease while its request runs; False once another request took the key."""
        with self.db.transaction() as s:
            renewed = s.execute(update(IdempotencyRecord).where(
                _is_key(caller, key), col(IdempotencyRecord.owner) == owner,
                col(IdempotencyRecord.status_code).is_(None),
            ).values(lease_until=datetime.now(UTC) + self.lease))  # fmt: skip
        return bool(cast(CursorResult[Any], renewed).rowcount)

    def complete(
        self, caller: str, key: str, owner: str, status: int, headers: list[list[str]], body: bytes
    ) -> None:
        """Store the answer, unless the key was taken over meanwhile (the new owner records its own)."""
        with self.db.transaction() as s:
            row = s.get(IdempotencyRecord, (caller, key))
            if row is not None and row.owner == owner:
                row.status_code, row.headers, row.body, row.lease_until = status, headers, body, None
                s.add(row)

    def release(self, caller: str, key: str, owner: str) -> None:
        with self.db.transaction() as s:
            s.execute(
                delete(IdempotencyRecord).where(_is_key(caller, key), col(IdempotencyRecord.owner) == owner)
            )


def caller_hash(credential: bytes | None) -> str:
    """Keys are per caller: the hash of the credential the request came with."""
    return hashlib.sha256(credential or b"anonymous").hexdigest()


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + path.encode() + b"\n" + body).hexdigest()


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
        caller, fingerprint = (
            caller_hash(credential),
            request_fingerprint(scope["method"], scope["path"], body),
        )
        owner = secrets.token_hex(16)
        stored = await to_thread.run_sync(
            store.begin, caller, key, scope["method"], scope["path"], fingerprint, owner
        )
        if stored is not None:
            await _answer_from_record(stored, fingerprint, scope, receive, send)
            return
        await self._run_and_record(store, (caller, key, owner), body, scope, send)

    async def _run_and_record(
        self, store: IdempotencyStore, claim: tuple[str, str, str], body: bytes, scope: Scope, send: Send
    ) -> None:
        caller, key, owner = claim
        status, headers, chunks = 500, [], []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        # A plain asyncio task, not a task group: an error of the app must reach the error handler as is.
        heartbeat = asyncio.create_task(_keep_lease(store, caller, key, owner))
        try:
            await self.app(scope, replay_body(body), capture)
        finally:
            heartbeat.cancel()
            if status < 500:
                kept_headers, kept_body = without_secrets(headers, b"".join(chunks))
                await to_thread.run_sync(store.complete, caller, key, owner, status, kept_headers, kept_body)
            else:
                await to_thread.run_sync(store.release, caller, key, owner)


async def _keep_lease(store: IdempotencyStore, caller: str, key: str, owner: str) -> None:
    """Renew the lease every third of it while the request runs (stops when the key was taken over)."""
    while True:
        await asyncio.sleep(store.lease.total_seconds() / 3)
        if not await to_thread.run_sync(store.renew, caller, key, owner):
            return


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
            "the first request with this key is still running; if it died, retry after Retry-After seconds",
        )
        response.headers["Retry-After"] = str(stored.retry_after_s)
        await response(scope, receive, send)
        return
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.headers]
    await send({"type": "http.response.start", "status": stored.status_code,
                "headers": [*headers, (b"idempotent-replayed", b"true")]})  # fmt: skip
    await send({"type": "http.response.body", "body": stored.body})
