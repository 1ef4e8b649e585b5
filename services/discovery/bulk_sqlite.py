"""Bulk upsert on SQLite (the zero-setup default): what catalog.upsert_creators stores, in a few
executemany statements per batch instead of ORM objects.

Before (issue 17): 100k creators through the API took 869 s on the ORM path (115/s). Each 5,000-creator
request then held SQLite's one write lock for ~43 s, longer than busy_timeout (30 s), so the outbox relay
and the consumer failed with "database is locked"; and the ORM's objects form reference cycles, which
pile up while shared.collector.collector_paused holds the collector off (RSS 0.4 -> 1.9 GB). Here rows are plain dicts and
tuples, freed by reference counting, and a body holds the write lock for 1-5 s on a loaded 2-core machine
(benchmarks/bench_discovery_sqlite.py: 100k creators, RSS +135 MB, no lock errors).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import Session

from services.discovery import creator_history, textsearch
from services.discovery.bulk_plan import Plan, Stored, event_ids, payloads_of
from services.discovery.catalog import DISCOVERY_ONLY_FIELDS, market_rows, search_columns
from services.discovery.models import Creator, CreatorMarket
from services.discovery.schemas import BulkResult, CreatorIn
from shared.bus.outbox import Outbox
from shared.db import insert_many, update_many
from shared.events import CreatorUpserted, Event
from shared.observability import current_correlation_id, new_correlation_id

KEY = ("org_id", "creator_id")


# Rows are built and written this many creators at a time: a 5,000-creator body's rows and parameters
# at once peaked at ~130 MB (tracemalloc), a fifth of that in chunks; one statement per table per chunk
# still amortises the round trips.
CHUNK = 1000
# SQLite has one writer at a time anyway: bulk requests take turns before validating, so at most one
# body's objects are alive (two at once doubled the peak RSS) and none waits on SQLite's busy timeout.
WRITER = threading.Lock()


def upsert(session: Session, org_id: str, creators: list[CreatorIn], outbox: Outbox) -> BulkResult:
    """Idempotent bulk upsert in the session's transaction (SQLite; bulk.upsert picks it)."""
    parts = [
        _upsert_chunk(session, org_id, creators[i : i + CHUNK], outbox)
        for i in range(0, len(creators), CHUNK)
    ]
    return BulkResult(
        received=len(creators),
        created=sum(p.created for p in parts),
        updated=sum(p.updated for p in parts),
        unchanged=sum(p.unchanged for p in parts),
        older=sum(p.older for p in parts),
    )


def _upsert_chunk(session: Session, org_id: str, creators: list[CreatorIn], outbox: Outbox) -> BulkResult:
    payloads = payloads_of(creators)
    existing = _existing(session, org_id, list(payloads))
    plan = Plan.of(payloads, existing)
    if not plan.changed:
        return plan.result(len(creators), created=0)
    now = datetime.now(UTC)
    rows = {cid: _creator_row(org_id, payloads[cid], plan.digests[cid], now) for cid in plan.changed}
    new = [rows[cid] for cid in plan.changed if cid not in existing]
    stale = [cid for cid in plan.changed if cid in existing]
    # A new creator is unscored and has no history with us; a changed one keeps both (and its fraud risk,
    # which its market rows carry for the brief's filters).
    insert_many(session, Creator, [{**r, "fraud_level": "unknown", "fraud_reasons": [], "past_campaigns": 0}
                                   for r in new])  # fmt: skip
    update_many(session, Creator, [rows[cid] for cid in stale], KEY)
    _delete(session, org_id, stale)
    markets = [
        m
        for cid in plan.changed
        for m in _market_rows(org_id, payloads[cid], rows[cid], existing[cid][1] if cid in existing else None)
    ]
    insert_many(session, CreatorMarket, markets)
    session.execute(
        text(
            "INSERT INTO creator_text (org_id, creator_id, handles, name, body) VALUES (:o, :c, :h, :n, :b)"
        ),
        [
            dict(zip("ochnb", (org_id, cid, *textsearch.text_row(payloads[cid])), strict=True))
            for cid in plan.changed
        ],
    )
    _stage_events(session, outbox, org_id, [payloads[cid] for cid in plan.changed], now)
    creator_history.record(
        session, [p for cid in plan.changed for p in creator_history.metric_rows(org_id, payloads[cid], now)]
    )
    return plan.result(len(creators), created=len(new))


def _existing(session: Session, org_id: str, ids: list[str]) -> Stored:
    c = Creator.__table__.c  # type: ignore[attr-defined]
    stmt = sa_select(c.creator_id, c.content_hash, c.fraud_risk, c.measured_on).where(
        c.org_id == org_id, c.creator_id.in_(ids)
    )
    return {cid: (digest, risk, measured) for cid, digest, risk, measured in session.execute(stmt)}


def _creator_row(org_id: str, payload: dict[str, Any], digest: str, now: datetime) -> dict[str, Any]:
    cols = search_columns(payload)
    return {
        "org_id": org_id, "creator_id": payload["creator_id"], "name": payload["name"],
        "home_market": payload["home_market"], "languages": payload["languages"],
        "categories": payload["categories"], "price_usd": payload.get("price_usd"),
        **cols, "profile": payload, "content_hash": digest, "updated_at": now,
    }  # fmt: skip


def _market_rows(
    org_id: str, payload: dict[str, Any], row: dict[str, Any], risk: float | None
) -> list[dict[str, Any]]:
    return [
        {"org_id": org_id, "creator_id": payload["creator_id"], "market": market, "audience_share": share,
         "engagement_rate": rate, "share_known": known, "platform_mask": row["platform_mask"],
         "category_mask": row["category_mask"], "fraud_risk": risk, "followers": row["followers"]}
        for market, share, rate, known in market_rows(payload)
    ]  # fmt: skip


def _delete(session: Session, org_id: str, ids: list[str]) -> None:
    """Drop the market and text rows of changed creators, one statement per table for the batch (the FTS5
    table indexes no creator id, so a statement per creator would scan it once each)."""
    if not ids:
        return
    marks = ", ".join("?" * len(ids))
    conn = session.connection()
    for table in ("creator_market", "creator_text"):
        conn.exec_driver_sql(
            f"DELETE FROM {table} WHERE org_id = ? AND creator_id IN ({marks})", (org_id, *ids)
        )


def _stage_events(
    session: Session, outbox: Outbox, org_id: str, payloads: list[dict[str, Any]], now: datetime
) -> None:
    """CreatorUpserted for each written creator, through the outbox's batch path (payloads are valid)."""
    stamp = now.isoformat().replace("+00:00", "Z")
    correlation = current_correlation_id() or new_correlation_id()
    items: list[tuple[type[Event], str, bytes, str, str, str]] = []
    for p, event_id in zip(payloads, event_ids(now, len(payloads)), strict=True):
        body = {k: v for k, v in p.items() if k not in DISCOVERY_ONLY_FIELDS}
        body["updated_at"] = stamp
        items.append(
            (CreatorUpserted, p["creator_id"], orjson.dumps(body), org_id, correlation, event_id.decode())
        )
    outbox.stage_messages(session, outbox.messages(items))
