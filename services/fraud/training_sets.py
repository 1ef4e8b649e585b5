"""Point-in-time training rows for the fraud risk model from people's verdicts on anomalies.

A row is a creator's account features *as they were when the anomaly was raised* (stored with the
anomaly), labelled fake if a person confirmed it and not fake if they dismissed it.

Which verdicts count as evidence about the creator: anomalies raised on the creator's own account or
audience (growth spikes, engagement far from the tier norm, like/comment ratio, generic comments,
engagement pods, fake followers in a follower sample). Campaign-traffic anomalies (clicks without
conversions, click-through or hourly click bursts) are left out: they describe the campaign's traffic,
which a click farm can fake around an honest creator, so a verdict on them says little about the account.

Anomalies raised on the same account snapshot (one stats update, one request) are one row: the creator
counts as fake if any of them was confirmed (a dismissed growth spike does not clear a confirmed pod).
Rows are ordered by the latest verdict, so the most recent labels are the ones held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlmodel import Session, col, select

from services.fraud.features import FEATURES, vector
from services.fraud.models import AnomalyLabel, FraudAnomaly

CREATOR_KINDS = frozenset(
    {"growth_spike", "low_engagement", "high_engagement", "like_comment_ratio", "generic_comments",
     "engagement_pod", "fake_followers"}
)  # fmt: skip


@dataclass(frozen=True)
class TrainingRow:
    org_id: str
    creator_id: str
    features_at: datetime
    reviewed_at: datetime
    features: list[float]
    fake: bool
    anomaly_ids: tuple[str, ...]


def rows(session: Session) -> list[TrainingRow]:
    """Every labelled account snapshot (all organisations: the risk model is shared), oldest verdict first."""
    stmt = (
        select(AnomalyLabel, FraudAnomaly)
        .join(FraudAnomaly, (col(FraudAnomaly.org_id) == col(AnomalyLabel.org_id))
              & (col(FraudAnomaly.anomaly_id) == col(AnomalyLabel.anomaly_id)))
        .where(col(AnomalyLabel.kind).in_(CREATOR_KINDS), col(FraudAnomaly.features_at).is_not(None))
        .order_by(col(AnomalyLabel.reviewed_at), col(AnomalyLabel.anomaly_id))
    )  # fmt: skip
    groups: dict[tuple[str, str, datetime], list[tuple[AnomalyLabel, FraudAnomaly]]] = {}
    for label, anomaly in session.exec(stmt):
        assert anomaly.features_at is not None and anomaly.features is not None
        groups.setdefault((label.org_id, label.creator_id, anomaly.features_at), []).append((label, anomaly))
    out = [
        TrainingRow(org_id=org, creator_id=creator, features_at=at, reviewed_at=max(lb.reviewed_at for lb, _ in pairs),
                    features=vector(pairs[0][1].features or {}), fake=any(lb.verdict == "confirmed" for lb, _ in pairs),
                    anomaly_ids=tuple(lb.anomaly_id for lb, _ in pairs))
        for (org, creator, at), pairs in groups.items()
    ]  # fmt: skip
    return sorted(out, key=lambda r: (r.reviewed_at, r.org_id, r.creator_id))


def arrays(items: list[TrainingRow]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([r.features for r in items], dtype=np.float32).reshape(-1, len(FEATURES))
    return x, np.array([r.fake for r in items], dtype=np.int64)
