"""Relationship history per creator: collaborations, outcomes against forecast, notes and incidents.

Every new line is published as RelationshipUpdated so discovery can weigh past collaborations.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from services.review.models import ForecastSeen, RelationshipEntry
from services.review.schemas import RelationshipIn, RelationshipOut
from shared.bus.outbox import Outbox
from shared.events import CampaignResultReported, RelationshipUpdated

# Statuses that mean we have really worked with the creator (a proposal or a decline does not).
WORKED_WITH = ("active", "completed", "incident")


def record(
    session: Session, org_id: str, creator_id: str, body: RelationshipIn, outbox: Outbox
) -> RelationshipOut:
    """Store one history line and publish it."""
    now = datetime.now(UTC)
    row = RelationshipEntry(
        entry_id=f"rel-{uuid.uuid4().hex[:12]}",
        org_id=org_id,
        creator_id=creator_id,
        recorded_at=now,
        **body.model_dump(),
    )
    session.add(row)
    event = RelationshipUpdated(
        creator_id=creator_id,
        campaign_id=body.campaign_id,
        status=body.status,
        outcome_vs_forecast=body.outcome_vs_forecast,
        notes=body.notes,
        incidents=body.incidents,
        updated_at=now,
    )
    outbox.stage(session, event, org_id=org_id)
    return RelationshipOut.model_validate(row, from_attributes=True)


def history(session: Session, org_id: str, creator_id: str) -> list[RelationshipOut]:
    """Newest first."""
    stmt = (
        select(RelationshipEntry)
        .where(RelationshipEntry.org_id == org_id, RelationshipEntry.creator_id == creator_id)
        .order_by(col(RelationshipEntry.recorded_at).desc())
    )
    return [RelationshipOut.model_validate(r, from_attributes=True) for r in session.exec(stmt)]


def known_creators(session: Session, org_id: str, creator_ids: list[str]) -> set[str]:
    """The creators among `creator_ids` we have worked with before."""
    stmt = select(RelationshipEntry.creator_id).where(
        RelationshipEntry.org_id == org_id,
        col(RelationshipEntry.creator_id).in_(creator_ids),
        col(RelationshipEntry.status).in_(WORKED_WITH),
    )
    return set(session.exec(stmt))


def on_result(session: Session, org_id: str, result: CampaignResultReported, outbox: Outbox) -> None:
    """A posted result closes the collaboration, with reach against the forecast's median when we saw one."""
    stmt = select(ForecastSeen).where(
        ForecastSeen.org_id == org_id,
        ForecastSeen.campaign_id == result.campaign_id,
        ForecastSeen.creator_id == result.creator_id,
    )
    forecast = session.exec(stmt.order_by(col(ForecastSeen.created_at).desc())).first()
    p50 = next((m["p50"] for m in forecast.metrics if m["metric"] == "reach"), None) if forecast else None
    ratio = round(result.reach / p50, 3) if p50 else None
    note = f"posted: reach {result.reach:,.0f}" + (f" vs forecast {p50:,.0f}" if p50 else "")
    body = RelationshipIn(
        campaign_id=result.campaign_id,
        status="completed",
        outcome_vs_forecast=ratio,
        notes=note,
        author="campaign results",
    )
    record(session, org_id, result.creator_id, body, outbox)
