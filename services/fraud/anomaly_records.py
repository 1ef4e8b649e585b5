"""Store anomalies and publish them; store a person's verdict as a label and publish it.

An anomaly's id is a hash of what it is about (org, creator, kind, the source it came from), so a
re-delivered event or a repeated request finds the stored row instead of raising a second alarm.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from services.fraud.anomalies import Finding
from services.fraud.features import named_features
from services.fraud.models import AnomalyLabel, FraudAnomaly
from services.fraud.schemas import AnomalyOut, AnomalyReviewIn
from shared.bus.outbox import Outbox
from shared.errors import Conflict, NotFound
from shared.events import AnomalyDetected, AnomalyReviewed, Reason


def anomaly_id(org_id: str, creator_id: str, kind: str, source_key: str) -> str:
    return hashlib.sha256(f"{org_id}|{creator_id}|{kind}|{source_key}".encode()).hexdigest()[:32]


def _features(
    session: Session, org_id: str, creator_id: str, finding: Finding, now: datetime
) -> tuple[dict[str, float | None] | None, datetime | None]:
    """The creator's account features as known now: the finding's own account, else the latest stored ones.

    A finding without account stats (a follower sample, comments) takes those of the creator's most recent
    earlier anomaly that had them: still only what was known when it was raised, never a later state.
    """
    if finding.account is not None:
        return named_features(finding.account), now
    stmt = (
        select(FraudAnomaly)
        .where(FraudAnomaly.org_id == org_id, FraudAnomaly.creator_id == creator_id)
        .where(col(FraudAnomaly.features_at).is_not(None))
        .order_by(col(FraudAnomaly.features_at).desc())
        .limit(1)
    )
    earlier = session.exec(stmt).first()
    return (earlier.features, earlier.features_at) if earlier is not None else (None, None)


def record(
    session: Session,
    outbox: Outbox,
    org_id: str,
    creator_id: str,
    findings: list[Finding],
    *,
    source: str,
    source_key: str,
    campaign_id: str | None = None,
) -> list[FraudAnomaly]:
    """Store each new finding and stage its AnomalyDetected event in the same transaction."""
    rows: list[FraudAnomaly] = []
    now = datetime.now(UTC)
    for f in findings:
        aid = anomaly_id(org_id, creator_id, f.kind, source_key)
        existing = session.get(FraudAnomaly, (org_id, aid))
        if existing is not None:
            rows.append(existing)
            continue
        features, features_at = _features(session, org_id, creator_id, f, now)
        row = FraudAnomaly(
            org_id=org_id,
            anomaly_id=aid,
            creator_id=creator_id,
            campaign_id=campaign_id,
            kind=f.kind,
            severity=f.severity,
            reasons=[r.model_dump() for r in f.reasons],
            source=source,
            detected_at=now,
            features=features,
            features_at=features_at,
        )
        session.add(row)
        event = AnomalyDetected(
            anomaly_id=aid,
            creator_id=creator_id,
            kind=f.kind,
            severity=f.severity,
            reasons=f.reasons,
            detected_at=now,
        )
        outbox.stage(session, event, org_id=org_id)
        rows.append(row)
    return rows


def review(session: Session, outbox: Outbox, org_id: str, aid: str, body: AnomalyReviewIn) -> FraudAnomaly:
    """Close an open anomaly with a verdict, keep it as a label, and publish AnomalyReviewed."""
    row = session.get(FraudAnomaly, (org_id, aid))
    if row is None:
        raise NotFound(f"no anomaly {aid!r}", field="anomaly_id")
    if row.status != "open":
        raise Conflict(f"anomaly {aid!r} was already {row.status}", field="anomaly_id")
    now = datetime.now(UTC)
    row.status = body.verdict
    session.add(row)
    session.add(
        AnomalyLabel(
            org_id=org_id,
            anomaly_id=aid,
            creator_id=row.creator_id,
            kind=row.kind,
            verdict=body.verdict,
            reviewer=body.reviewer,
            notes=body.notes,
            evidence=row.reasons,
            reviewed_at=now,
        )
    )
    event = AnomalyReviewed(
        anomaly_id=aid,
        creator_id=row.creator_id,
        kind=row.kind,
        verdict=body.verdict,
        reviewer=body.reviewer,
        notes=body.notes,
        reviewed_at=now,
    )
    outbox.stage(session, event, org_id=org_id)
    return row


def find(
    session: Session, org_id: str, creator_id: str | None, status: str | None, limit: int
) -> list[FraudAnomaly]:
    query = select(FraudAnomaly).where(FraudAnomaly.org_id == org_id)
    if creator_id is not None:
        query = query.where(FraudAnomaly.creator_id == creator_id)
    if status is not None:
        query = query.where(FraudAnomaly.status == status)
    return list(session.exec(query.order_by(col(FraudAnomaly.detected_at).desc()).limit(limit)))


def to_out(row: FraudAnomaly) -> AnomalyOut:
    return AnomalyOut(
        anomaly_id=row.anomaly_id,
        creator_id=row.creator_id,
        campaign_id=row.campaign_id,
        kind=row.kind,
        severity=row.severity,
        reasons=[Reason.model_validate(r) for r in row.reasons],
        source=row.source,
        status=row.status,
        detected_at=row.detected_at,
    )
