"""What the ranking model learns from: its input rows as scored at shortlist time, and how it went.

Each shortlisted creator's feature row is stored with the shortlist and never changed. An outcome arrives
later as RelationshipUpdated (actual / forecast of the campaign's main metric); it is kept per
(organisation, campaign, creator) only when that creator was on one of our shortlists for the campaign,
because only then is the model's input at decision time known.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from services.discovery.models import RankingOutcome, ShortlistFeatures
from shared.db import insert_many
from shared.events import RelationshipUpdated, ShortlistPublished
from shared.onnx_model import OnnxModel

if TYPE_CHECKING:
    from services.discovery.matching import Scored


def encode(row: Sequence[float]) -> list[float | None]:
    """JSON has no NaN: a missing feature (no price, not fraud-scored) is stored as null."""
    return [None if math.isnan(v) else float(v) for v in row]


def decode(row: Sequence[float | None]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in row]


def store_features(
    session: Session, org_id: str, event: ShortlistPublished, picked: Sequence[Scored], model: OnnxModel
) -> None:
    """One row per shortlisted creator: the feature vector the model scored, its names and version."""
    if not picked:
        return
    rows = [
        {"org_id": org_id, "campaign_id": event.campaign_id, "creator_id": s.row.creator_id,
         "shortlist_id": event.shortlist_id, "rank": i, "match_score": s.score, "model_name": model.name,
         "model_version": model.version, "feature_names": list(model.features),
         "features": encode(s.features), "created_at": event.created_at}
        for i, s in enumerate(picked, start=1)
    ]  # fmt: skip
    insert_many(session, ShortlistFeatures, rows)


def record_outcome(session: Session, org_id: str, event: RelationshipUpdated, success_at: float) -> bool:
    """Keep the newest outcome of a shortlisted collaboration; returns whether anything was stored."""
    if event.outcome_vs_forecast is None:
        return False
    key = (org_id, event.campaign_id, event.creator_id)
    if session.get(ShortlistFeatures, key) is None:
        return False  # not ranked by us for this campaign: no decision-time input to learn from
    row = session.get(RankingOutcome, key)
    if row is not None and row.updated_at.replace(tzinfo=UTC) > event.updated_at:
        return False  # an older update redelivered or out of order: the newest wins, as in the catalogue
    # recorded_at is when the outcome reached us, so the trigger counts it even if the event was late.
    row = row or RankingOutcome(org_id=org_id, campaign_id=event.campaign_id, creator_id=event.creator_id,
                                outcome_vs_forecast=0.0, success=False, status=event.status,
                                recorded_at=datetime.now(UTC), updated_at=event.updated_at)  # fmt: skip
    row.outcome_vs_forecast = event.outcome_vs_forecast
    row.success = event.outcome_vs_forecast >= success_at
    row.status, row.updated_at = event.status, event.updated_at
    session.add(row)
    return True
