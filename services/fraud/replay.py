"""Fraud's replay: every stored score in scope announced again on `fraud.scores.v1` (shared.replay).

Scores are published straight from the consumer (no outbox row to re-send), so a replayed FraudScored
gets an id derived from the score itself (organisation, creator, when it was scored): replaying the same
score twice is one event to consumers, and their keep-the-newest rule makes a score they already hold a
no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from services.fraud.models import FraudScore
from shared.bus.outbox import Message, Outbox
from shared.events import FraudScored
from shared.observability import new_correlation_id
from shared.replay import ReplayScope, chunked, state_event_id


def score_events(
    session: Session, outbox: Outbox, org_id: str, scope: ReplayScope
) -> Iterator[list[Message]]:
    """The FraudScored events of the organisation's stored scores in scope, a chunk at a time."""
    in_scope = scope.conditions(col(FraudScore.creator_id), col(FraudScore.scored_at))
    stmt = select(FraudScore).where(FraudScore.org_id == org_id, *in_scope)
    for rows in chunked(session.exec(stmt.order_by(col(FraudScore.creator_id)))):
        yield outbox.messages([_item(org_id, row) for row in rows])


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _item(org_id: str, row: FraudScore) -> tuple[type[FraudScored], str, bytes, str, str, str]:
    scored_at = _aware(row.scored_at)
    event = FraudScored(
        creator_id=row.creator_id, risk=row.risk, level=row.level, reasons=row.reasons,
        model_name=row.model_name, model_version=row.model_version, scored_at=scored_at,
        source_updated_at=_aware(row.source_updated_at) if row.source_updated_at else None,
    )  # fmt: skip
    event_id = state_event_id(FraudScored.event_type, org_id, row.creator_id, scored_at)
    return (
        FraudScored,
        row.creator_id,
        event.model_dump_json().encode(),
        org_id,
        new_correlation_id(),
        event_id,
    )
