"""What to forecast for an approved creator: the platform, format, market and category of the planned content."""

from __future__ import annotations

from collections.abc import Sequence

from services.forecast.features import PlannedContent
from services.forecast.schemas import ForecastIn
from shared.events import ReviewDecided
from shared.vocabulary import CATEGORIES, SHORT_VIDEO_PLATFORMS


def about(category: str | None, creator_categories: Sequence[str]) -> tuple[str | None, bool | None]:
    """The brief's category as the model knows it (None: none, or one outside the vocabulary), and whether
    it is one of the creator's own categories as known at decision time (None: the creator's are unknown)."""
    said = (category or "").strip().lower()
    if not said:
        return None, None
    own = {c.strip().lower() for c in creator_categories}
    return (said if said in CATEGORIES else None), (said in own if own else None)


def content_for_decision(
    event: ReviewDecided, default_format: str, category: str | None = None
) -> PlannedContent:
    """Forecast the default format on the creator's shortlisted platform, in its biggest target market, about
    the campaign's `category` (the brief's, as campaign.opened told; None: not known here)."""
    creator = event.creator
    in_targets = [m for m in creator.audience if m.market in event.target_markets]
    best = max(in_targets or creator.audience, key=lambda m: m.audience_share, default=None)
    fmt = "reel" if default_format == "post" and creator.platform == "tiktok" else default_format
    topic, on_niche = about(category, creator.categories)
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
        category=topic,
        on_niche=on_niche,
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
        category=body.category,
        on_niche=body.on_niche,
        message_kind=body.message_kind,
    )
