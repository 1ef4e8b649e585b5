"""What to forecast for an approved creator: the platform, format and market of the planned content."""

from __future__ import annotations

from services.forecast.features import PlannedContent
from services.forecast.schemas import ForecastIn
from shared.events import ReviewDecided
from shared.vocabulary import SHORT_VIDEO_PLATFORMS


def content_for_decision(event: ReviewDecided, default_format: str) -> PlannedContent:
    """Forecast the default format on the creator's shortlisted platform, in its biggest target market."""
    creator = event.creator
    in_targets = [m for m in creator.audience if m.market in event.target_markets]
    best = max(in_targets or creator.audience, key=lambda m: m.audience_share, default=None)
    fmt = "reel" if default_format == "post" and creator.platform == "tiktok" else default_format
    return PlannedContent(
        followers=creator.followers,
        engagement_rate=creator.engagement_rate,
        per_view=creator.engagement_basis == "per_view",
        platform=creator.platform,
        format=fmt,
        market=best.market if best else creator.home_market,
        market_share=best.audience_share if best else 0.0,
        hour=19,
        weekday=2,
        paid=False,
    )


def content_from_request(body: ForecastIn) -> PlannedContent:
    return PlannedContent(
        followers=body.followers,
        engagement_rate=body.engagement_rate,
        per_view=body.platform in SHORT_VIDEO_PLATFORMS,
        platform=body.platform,
        format=body.format,
        market=body.market,
        market_share=body.market_share,
        hour=body.hour,
        weekday=body.weekday,
        paid=body.paid,
    )
