"""Key revocation version: one counter in the identity database, bumped by every revoke and rotation.

Each process caches verified keys (a lookup and hash per request would cost more than a fast-lane
score). The cache is only trusted while the cluster-wide version is the one it was filled under, so a
key revoked by any process (the CLI, another replica) is refused everywhere.

Reading the version per request cost ~300 us on PostgreSQL (~40 us even on a raw prepared connection),
more than a fast-lane score. So on PostgreSQL the bump also sends a NOTIFY and each process keeps the
version current from a LISTEN connection (the event arrives within milliseconds of the revoking
commit), re-reading it every `poll_s` as a safety net and on every request while that connection is
down. SQLite (one host, the zero-setup demo) is read on every request.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy import text
from sqlmodel import Session

from shared.db import Database

log = logging.getLogger(__name__)
CHANNEL = "tandem_key_revocation"
_READ = text("SELECT version FROM key_revocation WHERE id = 1")
_BUMP = text("UPDATE key_revocation SET version = version + 1 WHERE id = 1")


class RevocationVersion:
    """The current revocation version of the identity database."""

    def __init__(self, db: Database, poll_s: float = 1.0) -> None:
        self.db, self.poll_s = db, poll_s
        self._value, self._live = -1, False
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def current(self) -> int:
        if not self.db.is_postgres:
            return self.read()
        if self._listener is None:
            self._start()
        return self._value if self._live else self.read()

    def read(self) -> int:
        with self.db.engine.connect() as conn:
            return int(conn.execute(_READ).scalar_one())

    def close(self) -> None:
        self._stop.set()

    def _start(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = threading.Thread(target=self._listen, name="key-revocations", daemon=True)
                self._listener.start()

    def _listen(self) -> None:
        dsn = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        # Read after LISTEN, so no bump falls between the read and the subscription.
                        self._value, self._live = self.read(), True
                        for _ in conn.notifies(timeout=self.poll_s, stop_after=1):
                            pass
            except Exception as exc:  # the per-request read covers the gap until we reconnect
                if self._stop.is_set():
                    return
                log.warning(
                    "revocation listener down; reading per request", extra={"fields": {"error": str(exc)}}
                )
            self._live = False
            self._stop.wait(1.0)


def bump(session: Session) -> None:
    """Invalidate every process's key cache; call in the transaction that revokes or replaces a key (the
    notification goes out when it commits)."""
    session.execute(_BUMP)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))
