"""Score catalog updates in bulk: one model call, the FraudScored events to publish, and one upserting
executemany for the scores.

The consumer calls this with a whole poll batch, so a thousand CreatorUpserted events cost one ONNX
call and one transaction rather than a thousand. Rows go in as plain dicts: building an ORM object per
row cost more than everything else in the batch together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import TypeAdapter
from sqlmodel import Session

from services.fraud import anomaly_records
from services.fraud.anomalies import account_anomalies
from services.fraud.features import primary_account
from services.fraud.models import FraudScore
from services.fraud.scoring import Assessment, assess
from shared.bus.consumer import PreparedBatch
from shared.bus.outbox import Outbox
from shared.db import insert_many
from shared.events import CreatorUpserted, EnvelopeMeta, FraudScored, Reason, derived_event_id
from shared.observability import correlation
from shared.onnx_model import OnnxModel

Update = tuple[CreatorUpserted, EnvelopeMeta]
_REASONS = TypeAdapter(list[Reason])  # one call per row instead of one dump per reason


def _values(event: CreatorUpserted, a: Assessment, reasons: bytes, now: datetime) -> dict[str, Any]:
    return {
        "risk": a.risk,
        "level": a.level,
        "reasons": orjson.Fragment(reasons),  # already JSON: the column's orjson encoder passes it through
        "model_name": a.model_name,
        "model_version": a.model_version,
        "scored_at": now,
        "source_updated_at": event.updated_at,
    }


def _store(
    session: Session,
    updates: list[Update],
    assessments: list[Assessment],
    reasons: list[bytes],
    now: datetime,
) -> None:
    """Insert or replace each creator's score in one executemany (within a batch, the last update wins)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for (event, env), a, why in zip(updates, assessments, reasons, strict=True):
        rows[env.org_id, event.creator_id] = {
            "org_id": env.org_id, "creator_id": event.creator_id, **_values(event, a, why, now)
        }  # fmt: skip
    insert_many(session, FraudScore, list(rows.values()), upsert_on=("org_id", "creator_id"))


def _scored_json(event: CreatorUpserted, a: Assessment, reasons: bytes, now: datetime) -> bytes:
    """A FraudScored payload, serialised without building the model: every value comes from a validated
    event or from the model, and this was a fifth of a stream event's cost (test_consumers checks the
    result parses as FraudScored)."""
    return orjson.dumps({
        "creator_id": event.creator_id, "risk": a.risk, "level": a.level,
        "reasons": orjson.Fragment(reasons), "model_name": a.model_name,
        "model_version": a.model_version, "scored_at": now, "source_updated_at": event.updated_at,
    })  # fmt: skip


def prepare_updates(
    outbox: Outbox,
    model: OnnxModel,
    updates: list[Update],
    medium_from: float,
    high_from: float,
) -> PreparedBatch:
    """Score each event, with no transaction held: the FraudScored events to publish, each keeping the
    correlation id of the event it answers, and how to store the scores (and any account anomalies).

    Each FraudScored id is derived from the id of the CreatorUpserted it answers, so a re-delivered
    event re-publishes the same event, which consumers recognise.
    """
    accounts = [primary_account(e.accounts) for e, _ in updates]
    assessments = assess(model, accounts, medium_from, high_from)
    now = datetime.now(UTC)
    reasons = [_REASONS.dump_json(a.reasons) for a in assessments]  # once, for the row and the event
    scored = outbox.messages([
        (FraudScored, e.creator_id, _scored_json(e, a, why, now), env.org_id, env.correlation_id,
         derived_event_id(env.event_id, FraudScored.event_type))
        for (e, env), a, why in zip(updates, assessments, reasons, strict=True)
    ])  # fmt: skip

    def store(session: Session) -> None:
        _store(session, updates, assessments, reasons, now)
        for (event, env), account in zip(updates, accounts, strict=True):
            findings = account_anomalies(account)
            if findings:
                with correlation(env.correlation_id):
                    key = event.updated_at.isoformat()
                    anomaly_records.record(
                        session, outbox, env.org_id, event.creator_id, findings, source="account",
                        source_key=key,
                    )  # fmt: skip

    return PreparedBatch(scored, store)
