"""Web sign-in state: server-side sessions that logout, a password change and deactivation end, and
login throttling per account and per client address.

The cookie carries a random token; only its hash is stored, so a copy of the table cannot sign anyone
in. Failed attempts are rows too, so every replica counts the same failures.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, text
from sqlmodel import Session, col, select

from services.review.models import LoginFailure, WebSession


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, org_id: str, reviewer_id: str, hours: int) -> str:
    """A new session for a person; returns the cookie value (shown to the browser only)."""
    token, now = secrets.token_urlsafe(32), datetime.now(UTC)
    session.execute(delete(WebSession).where(col(WebSession.expires_at) <= now))  # sweep as we go
    session.add(WebSession(token_sha256=_hash(token), org_id=org_id, reviewer_id=reviewer_id,
                           created_at=now, expires_at=now + timedelta(hours=hours)))  # fmt: skip
    return token


def signed_in(session: Session, token: str | None) -> tuple[str, str] | None:
    """(org_id, reviewer_id) of a live session, or None (unknown, ended or expired)."""
    if not token or len(token) > 100:
        return None
    row = session.get(WebSession, _hash(token))
    if row is None or row.expires_at.replace(tzinfo=UTC) <= datetime.now(UTC):
        return None
    return row.org_id, row.reviewer_id


def end(session: Session, token: str | None) -> None:
    if token and len(token) <= 100:
        session.execute(delete(WebSession).where(col(WebSession.token_sha256) == _hash(token)))


def end_all(session: Session, org_id: str, reviewer_id: str) -> None:
    """Sign a person out everywhere (password changed, account deactivated)."""
    session.execute(delete(WebSession).where(col(WebSession.org_id) == org_id,
                                             col(WebSession.reviewer_id) == reviewer_id))  # fmt: skip


@dataclass(frozen=True)
class ThrottlePolicy:
    per_account: int = 10
    per_address: int = 50
    window_s: int = 60


@dataclass(frozen=True)
class Throttled:
    """Why sign-in is refused without checking the password, and for how long."""

    scope: str  # "account" | "address"
    retry_after_s: int

    @property
    def message(self) -> str:
        whom = "this account" if self.scope == "account" else "your network address"
        return f"Too many failed sign-ins for {whom}. Try again in {self.retry_after_s} s."


def account_key(org_id: str, reviewer_id: str) -> str:
    return f"{org_id}|{reviewer_id}".lower()[:170]


def throttled(session: Session, account: str, address: str, policy: ThrottlePolicy) -> Throttled | None:
    """Refuse an attempt when the account or the address has `per_*` failures within the window: the
    wait ends when the oldest of them leaves it. Refused attempts do not count (so the wait is bounded)."""
    if session.get_bind().dialect.name == "postgresql":
        # One attempt per account at a time (held to the commit, past the password check): parallel
        # guesses must not all read "9 failures" and each get a try.
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:account))"), {"account": account})
    now = datetime.now(UTC)
    since = now - timedelta(seconds=policy.window_s)
    session.execute(delete(LoginFailure).where(col(LoginFailure.failed_at) < since))
    for scope, column, value, limit in (("account", LoginFailure.account, account, policy.per_account),
                                        ("address", LoginFailure.address, address, policy.per_address)):  # fmt: skip
        stmt = select(LoginFailure.failed_at).where(
            col(column) == value, col(LoginFailure.failed_at) >= since
        )
        times = sorted(
            t.replace(tzinfo=UTC)
            for t in session.exec(stmt.order_by(col(LoginFailure.failed_at).desc()).limit(limit))
        )
        if len(times) >= limit:
            wait = (times[0] + timedelta(seconds=policy.window_s) - now).total_seconds()
            return Throttled(scope, max(1, int(wait + 0.999)))
    return None


def record_failure(session: Session, account: str, address: str) -> None:
    session.add(LoginFailure(account=account, address=address[:64], failed_at=datetime.now(UTC)))


def clear_failures(session: Session, account: str) -> None:
    session.execute(delete(LoginFailure).where(col(LoginFailure.account) == account))
