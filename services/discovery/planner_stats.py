"""Planner statistics kept current after bulk loads (PostgreSQL).

The search plans (walk a sort index or build the matching set first) rest on the row counts and value
spreads ANALYZE gathers. Autovacuum gets there a minute or more after a load; a bulk request refreshes
them itself once the catalogue has changed by a good share since the last ANALYZE.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

GROWTH = 0.5  # rows changed since the last ANALYZE, as a share of the table: about 13 runs for a 1M load
TABLES = ("creator", "creator_market")
LOCK = 0x7A6E5354  # one advisory lock: two replicas finishing a batch at once analyse once
STALE = text(
    "SELECT reltuples < 0 OR n_mod_since_analyze > :growth * reltuples FROM pg_class "
    "JOIN pg_stat_user_tables s ON s.relid = pg_class.oid WHERE pg_class.oid = 'creator'::regclass"
)


def refresh_if_stale(session: Session) -> bool:
    """ANALYZE the search tables when they changed by GROWTH since last time (or were never analysed);
    True if it ran. Skipped while another session holds the lock: that one is already analysing."""
    if not session.execute(STALE, {"growth": GROWTH}).scalar():
        return False
    if not session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK}).scalar():
        return False
    for table in TABLES:
        session.execute(text(f"ANALYZE {table}"))
    return True
