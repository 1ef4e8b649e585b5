"""Point-in-time training rows for the ranking model: each outcome joined to the row the model scored.

The features come from `shortlist_features`, written when the shortlist was built and never updated, so a
creator who gained followers, changed audience, got a new fraud score or price afterwards trains the model
as the model saw them when it ranked them. Rows scored under another feature list (a future feature
change) are left out: their numbers mean something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlmodel import Session, col, select

from services.discovery.features import FEATURES, feature_matrix
from services.discovery.models import RankingOutcome, ShortlistFeatures
from services.discovery.outcomes import decode


@dataclass(frozen=True)
class TrainingRow:
    org_id: str
    campaign_id: str
    creator_id: str
    recorded_at: datetime
    model_version: str
    features: list[float]
    success: bool


def rows(session: Session, since: datetime | None = None) -> list[TrainingRow]:
    """Every outcome of a shortlisted creator (all organisations: the ranking model is shared), oldest first."""
    stmt = (
        select(RankingOutcome, ShortlistFeatures)
        .join(ShortlistFeatures, (col(ShortlistFeatures.org_id) == col(RankingOutcome.org_id))
              & (col(ShortlistFeatures.campaign_id) == col(RankingOutcome.campaign_id))
              & (col(ShortlistFeatures.creator_id) == col(RankingOutcome.creator_id)))
        .order_by(col(RankingOutcome.recorded_at), col(RankingOutcome.campaign_id), col(RankingOutcome.creator_id))
    )  # fmt: skip
    if since is not None:
        stmt = stmt.where(col(RankingOutcome.recorded_at) > since)
    return [
        TrainingRow(org_id=o.org_id, campaign_id=o.campaign_id, creator_id=o.creator_id, recorded_at=o.recorded_at,
                    model_version=f.model_version, features=decode(f.features), success=o.success)
        for o, f in session.exec(stmt)
        if f.feature_names == FEATURES
    ]  # fmt: skip


def arrays(items: list[TrainingRow]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature matrix, success labels, and the campaign of each row (precision@k is per campaign)."""
    x = feature_matrix([r.features for r in items])
    y = np.array([r.success for r in items], dtype=int)
    groups = np.array([f"{r.org_id}/{r.campaign_id}" for r in items])
    return x, y, groups
