"""Key revocation version: one counter in the identity database, bumped by every revoke and rotation.

Each process caches verified keys (a lookup and hash per request would cost more than a fast-lane
score). The cache is only trusted while the cluster-wide version is the one it was filled under, so
a key revoked by any process (the CLI, another replica) is refused by every replica on its next
request. Reading the version is one primary-key read of a one-row table on a pooled connection.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import text
from sqlmodel import Session

from shared.db import Database

_READ = text("SELECT version FROM key_revocation WHERE id = 1")
_BUMP = text("UPDATE key_revocation SET version = version + 1 WHERE id = 1")


class RevocationVersion:
    """The current revocation version, read at most every `max_staleness_s` (0: on every call)."""

    def __init__(self, db: Database, max_staleness_s: float = 0.0) -> None:
        self.db, self.max_staleness_s = db, max_staleness_s
        self._read_at, self._value = float("-inf"), -1
        self._lock = threading.Lock()

    def current(self) -> int:
        now = time.monotonic()
        if now - self._read_at <= self.max_staleness_s:
            return self._value
        with self.db.engine.connect() as conn:
            value = int(conn.execute(_READ).scalar_one())
        with self._lock:
            self._read_at, self._value = now, value
        return value


def bump(session: Session) -> None:
    """Invalidate every process's key cache; call in the transaction that revokes or replaces a key."""
    session.execute(_BUMP)
