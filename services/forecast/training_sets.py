"""Point-in-time training sets: each result joined to the forecast's inputs as they were at decision time.

The forecast service stores the creator's figures (followers, engagement rate, audience share) with every
forecast when the approval arrives. A training row takes those, never today's catalogue, and only adds
what the result itself tells about the post (format, hour, weekday), which was fixed before the outcome.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlmodel import Session, col, select

from services.forecast.features import PlannedContent, feature_matrix
from services.forecast.forecasting import TARGETS
from services.forecast.models import CampaignResult, ForecastOutcome, ForecastRecord, LineResult


@dataclass(frozen=True)
class TrainingRow:
    result_id: str
    forecast_id: str
    org_id: str
    decided_at: datetime
    received_at: datetime
    content: PlannedContent
    actuals: dict[str, float]
    creator_id: str | None = None
    variant: str | None = None  # learning.variant_key of the message the post carried


def variant_key(campaign_id: str | None, variant_id: str | None) -> str | None:
    """A message variant within its campaign (ids are unique per campaign only); None when either is."""
    return f"{campaign_id}/{variant_id}" if campaign_id and variant_id else None


def _variant(result: CampaignResult | None, posted: LineResult | None) -> str | None:
    """The message variant the post carried: as the result said it (REST, webhook), else as its plan line
    recorded it (a result put straight onto the topic has no CampaignResult row)."""
    if result is not None and result.payload.get("variant"):
        return variant_key(result.campaign_id, result.payload["variant"])
    return None if posted is None else variant_key(posted.campaign_id, posted.variant_id)


def _content(record: ForecastRecord, result: CampaignResult | None) -> PlannedContent | None:
    """Decision-time inputs, with the post's own format and time; None when the post left that market/platform."""
    content = PlannedContent(**record.inputs)
    if result is None:
        return content
    post = result.payload
    if post["market"] != content.market or post["platform"] != content.platform:
        return None  # the audience share known at decision time was for another market
    posted = datetime.fromisoformat(post["posted_at"])
    return dataclasses.replace(content, format=post["format"], hour=posted.hour, weekday=posted.weekday())


# A result id is the client's, unique within its organisation only.
SAME_RESULT = (col(CampaignResult.org_id) == col(ForecastOutcome.org_id)) & (
    col(CampaignResult.result_id) == col(ForecastOutcome.result_id)
)
SAME_POST = (col(LineResult.org_id) == col(ForecastOutcome.org_id)) & (
    col(LineResult.result_id) == col(ForecastOutcome.result_id)
)


def rows(
    session: Session,
    since: datetime | None = None,
    orgs: Collection[str] | None = None,
    latest: int | None = None,
) -> list[TrainingRow]:
    """Scored outcomes in the order received: of the organisations in `orgs` (None: every one), only the
    `latest` ones when given."""
    stmt = (
        select(ForecastOutcome, ForecastRecord, CampaignResult, LineResult)
        .join(ForecastRecord, col(ForecastRecord.forecast_id) == col(ForecastOutcome.forecast_id))
        .join(CampaignResult, SAME_RESULT, isouter=True)
        .join(LineResult, SAME_POST, isouter=True)
        .order_by(col(ForecastOutcome.received_at).desc(), col(ForecastOutcome.result_id).desc())
    )
    if since is not None:
        stmt = stmt.where(col(ForecastOutcome.received_at) > since)
    if orgs is not None:
        stmt = stmt.where(col(ForecastOutcome.org_id).in_(list(orgs)))
    if latest is not None:
        stmt = stmt.limit(latest)
    out = []
    for outcome, record, result, posted in reversed(session.exec(stmt).all()):
        content = _content(record, result)
        if content is None or not record.inputs:
            continue
        out.append(TrainingRow(result_id=outcome.result_id, forecast_id=record.forecast_id,
                               org_id=outcome.org_id, decided_at=record.created_at,
                               received_at=outcome.received_at, content=content,
                               actuals={t: float(outcome.actuals[t]) for t in TARGETS},
                               creator_id=record.creator_id, variant=_variant(result, posted)))  # fmt: skip
    return out


def arrays(items: list[TrainingRow]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The feature matrix and log1p targets (the scale the quantile heads are trained on)."""
    x = feature_matrix([r.content for r in items])
    ys = {t: np.log1p(np.array([r.actuals[t] for r in items], dtype=np.float64)) for t in TARGETS}
    return x, ys
