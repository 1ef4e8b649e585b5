"""Fraud anomalies seen on the bus, so routing knows which creators have one no person has reviewed yet."""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, col, func, select

from services.review.models import AnomalySeen
from shared.events import AnomalyDetected, AnomalyReviewed


def on_detected(session: Session, org_id: str, event: AnomalyDetected) -> None:
    """A new anomaly is open until a verdict arrives (a verdict that came first is kept)."""
    if session.get(AnomalySeen, (org_id, event.anomaly_id)) is None:
        session.add(AnomalySeen(org_id=org_id, anomaly_id=event.anomaly_id, creator_id=event.creator_id,
                                kind=event.kind, status="open", seen_at=event.detected_at))  # fmt: skip


def on_reviewed(session: Session, org_id: str, event: AnomalyReviewed) -> None:
    row = session.get(AnomalySeen, (org_id, event.anomaly_id)) or AnomalySeen(
        org_id=org_id, anomaly_id=event.anomaly_id, creator_id=event.creator_id, kind=event.kind,
        status="open", seen_at=event.reviewed_at,
    )  # fmt: skip
    row.status = event.verdict
    session.add(row)


def open_counts(session: Session, org_id: str, creator_ids: list[str]) -> Counter[str]:
    """Open anomalies per creator among `creator_ids`, in one query."""
    stmt = (
        select(AnomalySeen.creator_id, func.count())
        .where(AnomalySeen.org_id == org_id, AnomalySeen.status == "open",
               col(AnomalySeen.creator_id).in_(creator_ids))
        .group_by(col(AnomalySeen.creator_id))
    )  # fmt: skip
    return Counter({cid: int(n) for cid, n in session.exec(stmt)})
