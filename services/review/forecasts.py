"""Forecasts and fraud scores seen on the bus (shown on the task page), and push-back on a forecast."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from services.review import insights, relationships
from services.review.models import AdjustmentSent, ForecastSeen, FraudSeen, ReviewTask
from services.review.schemas import AdjustmentIn, AdjustmentOut, TaskContext
from shared.bus.outbox import Outbox
from shared.errors import Invalid
from shared.events import ForecastAdjustmentProposed, ForecastPublished, FraudScored


def remember(session: Session, org_id: str, event: ForecastPublished) -> None:
    if session.get(ForecastSeen, event.forecast_id) is not None:
        return
    row = ForecastSeen(
        forecast_id=event.forecast_id,
        org_id=org_id,
        campaign_id=event.campaign_id,
        creator_id=event.creator_id,
        market=event.market,
        platform=event.platform,
        format=event.format,
        metrics=[m.model_dump() for m in event.metrics],
        model=f"{event.model_name} v{event.model_version}",
        created_at=event.created_at,
    )
    session.add(row)


def for_task(session: Session, task: ReviewTask) -> list[ForecastSeen]:
    """Forecasts for this creator in this campaign, newest first."""
    stmt = select(ForecastSeen).where(
        ForecastSeen.org_id == task.org_id,
        ForecastSeen.campaign_id == task.campaign_id,
        ForecastSeen.creator_id == task.creator_id,
    )
    return list(session.exec(stmt.order_by(col(ForecastSeen.created_at).desc())))


def adjustments(session: Session, task_id: str) -> list[AdjustmentSent]:
    stmt = select(AdjustmentSent).where(AdjustmentSent.task_id == task_id)
    return list(session.exec(stmt.order_by(col(AdjustmentSent.proposed_at))))


def propose(session: Session, task: ReviewTask, body: AdjustmentIn, outbox: Outbox) -> AdjustmentOut:
    """Send a reviewer's push-back to the forecast service (which stores it as a human adjustment)."""
    known = {f.forecast_id: f for f in for_task(session, task)}
    forecast_id = body.forecast_id or next(iter(known), None)
    if forecast_id is None or forecast_id not in known:
        raise Invalid(
            f"no forecast {body.forecast_id or ''} for creator {task.creator_id} in this campaign yet",
            field="forecast_id",
        )
    if body.metric not in {m["metric"] for m in known[forecast_id].metrics}:
        raise Invalid(f"forecast {forecast_id} has no metric {body.metric!r}", field="metric")
    row = AdjustmentSent(
        adjustment_id=f"adj-{uuid.uuid4().hex[:12]}",
        org_id=task.org_id,
        task_id=task.task_id,
        forecast_id=forecast_id,
        metric=body.metric,
        multiplier=body.multiplier,
        absolute_value=body.absolute_value,
        reason=body.reason,
        market=body.market or task.market or None,
        author=body.reviewer,
        proposed_at=datetime.now(UTC),
    )
    session.add(row)
    event = ForecastAdjustmentProposed(
        adjustment_id=row.adjustment_id,
        forecast_id=forecast_id,
        metric=row.metric,
        multiplier=row.multiplier,
        absolute_value=row.absolute_value,
        reason=row.reason,
        market=row.market,
        author=row.author,
        proposed_at=row.proposed_at,
    )
    outbox.stage(session, event, org_id=task.org_id)
    return AdjustmentOut.model_validate(row, from_attributes=True)


def remember_fraud(session: Session, org_id: str, event: FraudScored) -> None:
    """Keep the newest fraud score per creator (older re-deliveries do not overwrite it)."""
    stmt = select(FraudSeen).where(FraudSeen.org_id == org_id, FraudSeen.creator_id == event.creator_id)
    row = session.exec(stmt).first()
    if row is not None and row.scored_at >= event.scored_at:
        return
    row = row or FraudSeen(org_id=org_id, creator_id=event.creator_id, risk=0, level="", model="",
                           scored_at=event.scored_at)  # fmt: skip
    row.risk, row.level, row.scored_at = event.risk, event.level, event.scored_at
    row.reasons = [r.model_dump() for r in event.reasons]
    row.model = f"{event.model_name} v{event.model_version}"
    session.add(row)


def fraud_scored_at(session: Session, org_id: str, creator_ids: list[str]) -> dict[str, datetime]:
    """When each of `creator_ids` was last scored for fraud, as seen on the bus, in one query."""
    stmt = select(FraudSeen.creator_id, FraudSeen.scored_at).where(
        FraudSeen.org_id == org_id, col(FraudSeen.creator_id).in_(creator_ids)
    )
    return dict(session.exec(stmt).all())


def fraud_of(session: Session, org_id: str, creator_id: str) -> FraudSeen | None:
    stmt = select(FraudSeen).where(FraudSeen.org_id == org_id, FraudSeen.creator_id == creator_id)
    return session.exec(stmt).first()


def context(session: Session, task: ReviewTask) -> TaskContext:
    fraud = fraud_of(session, task.org_id, task.creator_id)
    return TaskContext(
        fraud=fraud.model_dump(mode="json", exclude={"id"}) if fraud else None,
        forecasts=[f.model_dump(mode="json") for f in for_task(session, task)],
        history=relationships.history(session, task.org_id, task.creator_id),
        adjustments=[
            AdjustmentOut.model_validate(a, from_attributes=True) for a in adjustments(session, task.task_id)
        ],
        **insights.for_task_page(session, task),
    )
