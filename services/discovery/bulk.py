"""Bulk upsert on PostgreSQL through COPY: the same result as catalog.upsert_creators, ~10x the rate.

Per creator the ORM path costs a few hundred microseconds of Python (objects, flushes, one INSERT per
account and market). Here the rows are written as COPY text and only changed creators are touched:
new ones are copied straight into `creator`; changed ones go through a temporary table and one UPDATE,
which keeps their fraud scores and relationship history. Outbox rows are copied in the same transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlmodel import Session

from services.discovery import catalog
from services.discovery.catalog import DISCOVERY_ONLY_FIELDS, payload_hash, search_columns
from services.discovery.schemas import BulkResult, CreatorIn
from shared.bus.outbox import Outbox
from shared.events import CreatorUpserted
from shared.observability import current_correlation_id, new_correlation_id

CREATOR_COLUMNS = (
    "org_id", "creator_id", "name", "home_market", "languages", "categories", "price_usd", "followers",
    "content_hash", "updated_at", "fraud_level", "fraud_reasons", "platform_mask", "category_mask",
    "language_mask", "engagement_rate", "growth", "audience_known", "max_market_er", "female_share", "age_shares", "profile",
    "past_campaigns",
)  # fmt: skip
# Columns a changed payload replaces; fraud scores and relationship history stay as they are.
UPDATED_COLUMNS = tuple(
    c
    for c in CREATOR_COLUMNS
    if c not in ("org_id", "creator_id", "fraud_level", "fraud_reasons", "past_campaigns")
)
_SPECIAL = re.compile(r"[\\\t\n\r]")


def _escape(text: str) -> str:
    """COPY text escapes; most values need none, and the regex test is cheaper than always replacing."""
    if not _SPECIAL.search(text):
        return text
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _field(value: Any) -> str:
    """One value in COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return _escape(orjson.dumps(value).decode())  # JSON has no raw tabs or newlines, only backslashes
    return str(value)


def copy_text(rows: Iterable[Sequence[Any]]) -> bytes:
    return "".join("\t".join(map(_field, r)) + "\n" for r in rows).encode()


def _copy(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(copy_text(rows))


def _creator_row(org_id: str, payload: dict[str, Any], digest: str, now: datetime) -> list[Any]:
    cols = search_columns(payload)
    by_name = {
        "org_id": org_id, "creator_id": payload["creator_id"], "name": payload["name"],
        "home_market": payload["home_market"], "languages": payload["languages"],
        "categories": payload["categories"], "price_usd": payload.get("price_usd"), "content_hash": digest,
        "updated_at": now, "fraud_level": "unknown", "fraud_reasons": [], "profile": payload,
        "past_campaigns": 0, **cols,
    }  # fmt: skip
    return [by_name[c] for c in CREATOR_COLUMNS]


def _outbox_row(org_id: str, payload: dict[str, Any], now: datetime, producer: str, cid: str) -> list[Any]:
    """The envelope Outbox.stage would write, built as plain dicts: the payload is already validated."""
    event_id = str(uuid.uuid4())
    body = {k: v for k, v in payload.items() if k not in DISCOVERY_ONLY_FIELDS}
    stamp = now.isoformat().replace("+00:00", "Z")
    body["updated_at"] = stamp
    envelope = {
        "event_id": event_id, "type": CreatorUpserted.event_type, "schema_version": CreatorUpserted.schema_version,
        "occurred_at": stamp, "producer": producer, "correlation_id": cid,
        "org_id": org_id, "key": payload["creator_id"], "payload": body,
    }  # fmt: skip
    headers = {
        "event_id": event_id, "event_type": CreatorUpserted.event_type,
        "schema_version": str(CreatorUpserted.schema_version), "correlation_id": cid, "org_id": org_id,
    }  # fmt: skip
    value = "\\x" + orjson.dumps(envelope).hex()
    return [CreatorUpserted.topic, payload["creator_id"], event_id, value, headers, now]


def _existing(cursor: Any, org_id: str, ids: list[str]) -> dict[str, tuple[str, float | None]]:
    """Content hash and fraud risk of the creators already stored."""
    cursor.execute(
        "SELECT creator_id, content_hash, fraud_risk FROM creator WHERE org_id = %s AND creator_id = ANY(%s)",
        (org_id, ids),
    )
    return {cid: (digest, risk) for cid, digest, risk in cursor.fetchall()}


def copy_upsert(session: Session, org_id: str, creators: list[CreatorIn], outbox: Outbox) -> BulkResult:
    """Idempotent bulk upsert through COPY, in the session's transaction (PostgreSQL only)."""
    payloads = {c.creator_id: catalog.payload(c) for c in creators}  # a repeated id: the last wins
    return copy_upsert_payloads(session, org_id, payloads, outbox, received=len(creators))


def copy_upsert_payloads(
    session: Session, org_id: str, payloads: dict[str, dict[str, Any]], outbox: Outbox, *, received: int
) -> BulkResult:
    """The COPY upsert from validated JSON-mode payloads keyed by creator id."""
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    digests = {cid: payload_hash(p) for cid, p in payloads.items()}
    existing = _existing(cursor, org_id, list(payloads))
    changed = [cid for cid, d in digests.items() if cid not in existing or existing[cid][0] != d]
    new = [cid for cid in changed if cid not in existing]
    updated = [cid for cid in changed if cid in existing]
    now = datetime.now(UTC)
    _copy(
        cursor, "creator", CREATOR_COLUMNS, [_creator_row(org_id, payloads[c], digests[c], now) for c in new]
    )
    _update_changed(cursor, org_id, [_creator_row(org_id, payloads[c], digests[c], now) for c in updated])
    if updated:
        cursor.execute(
            "DELETE FROM creator_market WHERE org_id = %s AND creator_id = ANY(%s)", (org_id, updated)
        )
    risks = {cid: existing[cid][1] for cid in updated}
    _copy_children(cursor, org_id, [payloads[c] for c in changed], risks)
    cid = current_correlation_id() or new_correlation_id()
    outbox_rows = [_outbox_row(org_id, payloads[c], now, outbox.producer_name, cid) for c in changed]
    _copy(
        cursor, "outbox_message", ("topic", "key", "event_id", "value", "headers", "created_at"), outbox_rows
    )
    if changed:
        outbox.wakeup.set()
    return BulkResult(
        received=received, created=len(new), updated=len(updated), unchanged=received - len(changed)
    )


def _update_changed(cursor: Any, org_id: str, rows: list[list[Any]]) -> None:
    if not rows:
        return
    cursor.execute("CREATE TEMP TABLE IF NOT EXISTS creator_stage (LIKE creator) ON COMMIT DROP")
    cursor.execute("TRUNCATE creator_stage")
    _copy(cursor, "creator_stage", CREATOR_COLUMNS, rows)
    sets = ", ".join(f"{c} = s.{c}" for c in UPDATED_COLUMNS)
    cursor.execute(
        f"UPDATE creator c SET {sets} FROM creator_stage s "
        "WHERE c.org_id = s.org_id AND c.creator_id = s.creator_id"
    )


MARKET_COLUMNS = (
    "org_id", "creator_id", "market", "audience_share", "engagement_rate", "platform_mask", "category_mask",
    "fraud_risk", "followers",
)  # fmt: skip


def _copy_children(
    cursor: Any, org_id: str, payloads: list[dict[str, Any]], risks: dict[str, float | None]
) -> None:
    """creator_market rows, with the creator columns a brief filters on copied in. Formatted directly
    (ids, codes and numbers need no escaping): this is the largest table, ~4-5 rows per creator."""
    lines: list[str] = []
    for p in payloads:
        cid, cols = p["creator_id"], search_columns(p)
        risk = _field(risks.get(cid))
        tail = f"{cols['platform_mask']}\t{cols['category_mask']}\t{risk}\t{cols['followers']}\n"
        head = f"{org_id}\t{_escape(cid)}\t"
        lines.extend(
            f"{head}{m['market']}\t{m['audience_share']}\t{m['engagement_rate']}\t{tail}"
            for m in p["audience"]
        )
    if lines:
        with cursor.copy(f"COPY creator_market ({', '.join(MARKET_COLUMNS)}) FROM STDIN") as copy:
            copy.write("".join(lines).encode())


def upsert(session: Session, org_id: str, creators: list[CreatorIn], outbox: Outbox) -> BulkResult:
    """COPY on PostgreSQL, the portable ORM path elsewhere (SQLite for the zero-setup demo)."""
    if session.get_bind().dialect.name == "postgresql":
        return copy_upsert(session, org_id, creators, outbox)
    return catalog.upsert_creators(session, org_id, creators, outbox)
