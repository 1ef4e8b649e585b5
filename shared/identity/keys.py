"""API keys: issue, verify (with a short cache), rotate with a grace period, revoke."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from sqlmodel import col, select

from shared.db import Database
from shared.identity import revocation
from shared.identity.models import ApiKey, Organisation

# `integration`: a service (a review tool, a chat bot) acting for the one person its key is bound to; the
# audit trail names it next to the person, and it is never a second reviewer of that person's task.
Role = Literal["admin", "strategist", "reviewer", "partner", "integration"]
ROLES: tuple[str, ...] = get_args(Role)
PREFIX = "tdm_"


@dataclass(frozen=True)
class Principal:
    """The caller of a request: its organisation, role and key, and the person the key or session is bound to."""

    org_id: str
    role: str
    key_id: str
    person: str | None = None

    @property
    def actor(self) -> str:
        """Who a judgement is recorded as: the bound person, else the key itself (`role:key_id`), so the
        audit trail never names someone who did not act."""
        return self.person or f"{self.role}:{self.key_id}"


def _hash(secret: str) -> str:
    # Keys carry 256 random bits, so a fast hash cannot be brute-forced; a slow KDF would only cost latency.
    return hashlib.sha256(secret.encode()).hexdigest()


def _parse(token: str) -> tuple[str, str] | None:
    if not token.startswith(PREFIX) or "." not in token:
        return None
    key_id, secret = token[len(PREFIX) :].split(".", 1)
    return (key_id, secret) if key_id and secret else None


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class KeyStore:
    """Reads and writes keys in the identity database; verification results are cached briefly, and
    only while the cluster-wide revocation version is unchanged (see shared.identity.revocation)."""

    def __init__(
        self, db: Database, cache_ttl_s: float = 30.0, revocations: revocation.RevocationVersion | None = None
    ) -> None:
        self.db, self.cache_ttl_s = db, cache_ttl_s
        self.revocations = revocations or revocation.RevocationVersion(db)
        self._cache: dict[str, tuple[float, Principal | None, int]] = {}
        self._lock = threading.Lock()

    def ensure_org(self, org_id: str, name: str | None = None) -> None:
        with self.db.transaction() as s:
            if s.get(Organisation, org_id) is None:
                s.add(Organisation(org_id=org_id, name=name or org_id, created_at=datetime.now(UTC)))

    def issue(
        self, org_id: str, role: str, name: str, lifetime: timedelta | None = None, person: str | None = None
    ) -> str:
        """A new key for an organisation (bound to `person`, if given); the token is shown once, never stored."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        self.ensure_org(org_id)
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self.db.transaction() as s:
            s.add(ApiKey(key_id=key_id, org_id=org_id, name=name, role=role, secret_sha256=_hash(secret),
                         created_at=now, expires_at=now + lifetime if lifetime else None, person=person))  # fmt: skip
        return f"{PREFIX}{key_id}.{secret}"

    def verify(self, token: str) -> Principal | None:
        """The principal of a valid, unexpired, unrevoked key; None otherwise."""
        now, version = time.monotonic(), self.revocations.current()
        with self._lock:
            hit = self._cache.get(token)
        if hit and now - hit[0] < self.cache_ttl_s and hit[2] == version:
            return hit[1]
        principal = self._lookup(token)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = (now, principal, version)
        return principal

    def _lookup(self, token: str) -> Principal | None:
        parsed = _parse(token)
        if parsed is None:
            return None
        key_id, secret = parsed
        with self.db.transaction() as s:
            key = s.get(ApiKey, key_id)
        if key is None or not hmac.compare_digest(key.secret_sha256, _hash(secret)):
            return None
        now = datetime.now(UTC)
        expires = _aware(key.expires_at)
        if key.revoked_at is not None or (expires is not None and expires <= now):
            return None
        return Principal(org_id=key.org_id, role=key.role, key_id=key.key_id, person=key.person)

    def rotate(self, key_id: str, grace: timedelta = timedelta(hours=24)) -> str:
        """A replacement key with the same org and role; the old one keeps working for `grace`."""
        with self.db.transaction() as s:
            old = s.get(ApiKey, key_id)
            if old is None or old.revoked_at is not None:
                raise LookupError(f"no active key {key_id}")
            org_id, role, name, person = old.org_id, old.role, old.name, old.person
        token = self.issue(org_id, role, name, person=person)
        new_id = token[len(PREFIX) :].split(".", 1)[0]
        with self.db.transaction() as s:
            old = s.get(ApiKey, key_id)
            assert old is not None
            old.expires_at, old.replaced_by = datetime.now(UTC) + grace, new_id
            s.add(old)
            revocation.bump(s)
        return token

    def revoke(self, key_id: str) -> None:
        with self.db.transaction() as s:
            key = s.get(ApiKey, key_id)
            if key is None:
                raise LookupError(f"no key {key_id}")
            key.revoked_at = datetime.now(UTC)
            s.add(key)
            revocation.bump(s)
        with self._lock:
            self._cache.clear()

    def list_keys(self, org_id: str | None = None) -> list[ApiKey]:
        with self.db.transaction() as s:
            stmt = select(ApiKey).order_by(col(ApiKey.created_at))
            if org_id:
                stmt = stmt.where(ApiKey.org_id == org_id)
            return list(s.exec(stmt))
