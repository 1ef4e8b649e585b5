"""Forecast request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from shared.events import MetricForecast
from shared.plausibility import Plausible
from shared.vocabulary import MARKETS, ContentFormat, Platform


def _known_market(v: str) -> str:
    if v not in MARKETS:
        raise ValueError(f"unknown market {v!r} (known: {', '.join(MARKETS)})")
    return v


Market = Annotated[str, AfterValidator(_known_market)]


class ForecastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    followers: int = Field(ge=0)
    engagement_rate: float = Field(ge=0, le=1)
    platform: Platform
    format: ContentFormat
    market: Market
    market_share: float = Field(ge=0, le=1, description="Share of the creator's audience in that market.")
    hour: int = Field(19, ge=0, le=23)
    weekday: int = Field(2, ge=0, le=6, description="0 = Monday.")
    paid: bool = False


class BatchForecastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ForecastIn] = Field(min_length=1, max_length=10_000)


class ForecastOut(BaseModel):
    metrics: list[MetricForecast]
    model_name: str
    model_version: str


class StoredForecastOut(ForecastOut):
    forecast_id: str
    campaign_id: str | None
    creator_id: str | None
    platform: str
    format: str
    market: str
    created_at: datetime


class PlanAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    followers: int = Field(ge=0)
    engagement_rate: float = Field(ge=0, le=1)
    cost_per_post_usd: float = Field(0.0, ge=0)


class PlanCreator(BaseModel):
    model_config = ConfigDict(extra="forbid")

    creator_id: str = Field(min_length=1, max_length=64)
    market: Market
    market_share: float = Field(0.5, ge=0, le=1)
    accounts: list[PlanAccount] = Field(min_length=1)


class PlanContent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_id: str = Field(min_length=1, max_length=64)
    format: ContentFormat
    after: list[str] = Field(
        default_factory=list, description="Content a creator must post first (e.g. teaser)."
    )
    not_before: date | None = Field(
        None, description="Earliest day any creator may post it (e.g. launch day)."
    )


class PlanIn(BaseModel):
    """A campaign window, candidate content and creators, and the constraints a schedule must respect."""

    model_config = ConfigDict(extra="forbid")

    window_start: date
    window_end: date
    objective: Literal["reach", "engagements"] = "reach"
    budget_usd: float | None = Field(None, ge=0)
    max_posts_per_creator_per_week: int = Field(3, ge=1, le=21)
    min_spacing_days: int = Field(1, ge=1, le=30, description="Days between two posts of one creator.")
    post_hour: int = Field(19, ge=0, le=23)
    content: list[PlanContent] = Field(min_length=1, max_length=50)
    creators: list[PlanCreator] = Field(min_length=1, max_length=1_000)


class PlannedPost(BaseModel):
    creator_id: str
    content_id: str
    platform: str
    format: str
    day: date
    forecast_p50: float
    value: float = Field(description="forecast_p50 after fatigue (same-day and same-platform repeats)")
    cost_usd: float
    why: str


class PlanOut(BaseModel):
    objective: str
    posts: list[PlannedPost]
    total: float
    naive_total: float
    uplift_vs_naive: float | None
    naive_violations: list[str]
    spend_usd: float
    skipped: list[dict[str, str]]
    explanation: list[str]
    model_name: str
    model_version: str


class AdjustmentIn(BaseModel):
    """A person's change to one metric: a multiplier or an absolute value, with a reason and a market tag."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(min_length=1, max_length=32)
    multiplier: float | None = Field(None, gt=0, le=100)
    absolute_value: float | None = Field(None, ge=0)
    reason: str = Field(min_length=1, max_length=2_000)
    market: Market | None = None
    author: str = Field(
        "",
        max_length=128,
        description="Optional: the adjustment is the caller's; another name is refused (422).",
    )


class AdjustmentOut(BaseModel):
    adjustment_id: str
    forecast_id: str
    metric: str
    multiplier: float | None
    absolute_value: float | None
    model_p10: float
    model_p50: float
    model_p90: float
    adjusted_p10: float
    adjusted_p50: float
    adjusted_p90: float
    reason: str
    market: str | None
    author: str
    source: str
    proposed_at: datetime


class ForecastDetailOut(StoredForecastOut):
    adjustments: list[AdjustmentOut]
    outcomes: list[dict[str, Any]]


class ExperimentIn(BaseModel):
    """Variants, metric and the design inputs that fix the sample size per arm."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    metric: str = Field(min_length=1, max_length=64)
    metric_type: Literal["binary", "continuous"] = "binary"
    variants: list[str] = Field(min_length=2, max_length=20, description="Arm names; at least two.")
    control: str | None = Field(None, description="Control arm (default: the first variant).")
    baseline: float = Field(description="Expected control rate (binary) or mean (continuous).")
    mde: float = Field(gt=0, description="Minimum detectable effect, absolute.")
    alpha: float = Field(0.05, gt=0, lt=0.5)
    power: float = Field(0.8, ge=0.5, lt=1)
    sd: float | None = Field(None, gt=0, description="Standard deviation; required for a continuous metric.")


class ExperimentOut(BaseModel):
    experiment_id: str
    name: str
    metric: str
    metric_type: str
    variants: list[str]
    control: str
    baseline: float
    mde: float
    alpha: float
    power: float
    sd: float | None
    sample_size_per_arm: int
    created_at: datetime


class ObservationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(min_length=1, max_length=128)
    variant: str = Field(min_length=1, max_length=64)
    value: float | None = Field(None, description="Outcome; leave out to record an exposure only.")


class ObservationsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ObservationIn] = Field(min_length=1, max_length=50_000)


class ForecastColumnsIn(BaseModel):
    """Many plans as columns (one list per field, equal lengths): the bulk path, no object per row."""

    model_config = ConfigDict(extra="forbid")

    followers: list[float] = Field(min_length=1, max_length=200_000)
    engagement_rate: list[float]
    platform: list[str]
    format: list[str]
    market: list[str]
    market_share: list[float]
    hour: list[int] | None = None
    weekday: list[int] | None = None
    paid: list[bool] | None = None


class PagePostIn(BaseModel):
    """A brand-page post before it goes out, in the UCI 'Facebook metrics' terms."""

    model_config = ConfigDict(extra="forbid")

    page_total_likes: int = Field(gt=0)
    type: Literal["Photo", "Status", "Link", "Video"]
    category: int = Field(ge=1, le=3)
    post_month: int = Field(ge=1, le=12)
    post_weekday: int = Field(ge=1, le=7, description="1-7 as in the UCI data.")
    post_hour: int = Field(ge=0, le=23)
    paid: bool | None = None


class PagePostsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[PagePostIn] = Field(min_length=1, max_length=10_000)


class ResultIn(Plausible):
    """Actual results of one piece of content by one creator (the payload of REST and partner webhooks)."""

    model_config = ConfigDict(extra="forbid")

    result_id: str = Field(min_length=1, max_length=64, description="The sender's id; repeats are ignored.")
    campaign_id: str = Field(min_length=1, max_length=64)
    creator_id: str = Field(min_length=1, max_length=64)
    platform: Platform
    format: ContentFormat
    market: Market
    reach: float = Field(ge=0)
    engagements: float = Field(ge=0)
    clicks: float = Field(0, ge=0)
    conversions: float = Field(0, ge=0)
    spend_usd: float = Field(0, ge=0)
    posted_at: AwareDatetime
    period_end: AwareDatetime | None = Field(None, description="When the figures were read (default: now).")
    line_id: str | None = Field(
        None, min_length=1, max_length=64, description="The campaign plan's line (post)."
    )
    variant: str | None = Field(
        None, min_length=1, max_length=64, description="The message variant it carried."
    )


class ResultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    results: list[ResultIn] = Field(min_length=1, max_length=5_000)


class ResultsAccepted(BaseModel):
    accepted: int = Field(description="New results, staged as campaign.result_reported events.")
    duplicates: int = Field(description="Results whose result_id was already received (nothing changed).")
    result_ids: list[str] = Field(description="Ids of the new results.")
