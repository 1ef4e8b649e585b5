"""Forecast request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from shared.events import MetricForecast
from shared.plausibility import Plausible
from shared.vocabulary import MARKETS, Category, ContentFormat, MessageKind, Platform


def _known_market(v: str) -> str:
    if v not in MARKETS:
        raise ValueError(f"unknown market {v!r} (known: {', '.join(MARKETS)})")
    return v


Market = Annotated[str, AfterValidator(_known_market)]


FORECAST_IN_EXAMPLE = {
    "followers": 85000,
    "engagement_rate": 0.031,
    "platform": "instagram",
    "format": "reel",
    "market": "DE",
    "market_share": 0.62,
    "hour": 19,
    "weekday": 2,
    "paid": False,
}


class ForecastIn(BaseModel, json_schema_extra={"examples": [FORECAST_IN_EXAMPLE]}):
    """One planned post by one creator, to forecast."""

    model_config = ConfigDict(extra="forbid")

    followers: int = Field(ge=0, description="The creator's followers on that platform.")
    engagement_rate: float = Field(
        ge=0, le=1, description="The creator's engagement rate, fraction 0-1 (0.035 is 3.5%)."
    )
    platform: Platform = Field(description="Where it is posted.")
    format: ContentFormat = Field(description="What is posted: post, reel, story, long_video or stream.")
    market: Market = Field(description="Target country (ISO 3166-1 alpha-2), e.g. DE.")
    market_share: float = Field(ge=0, le=1, description="Share of the creator's audience in that market.")
    hour: int = Field(19, ge=0, le=23, description="Hour of day it goes out, 0-23.")
    weekday: int = Field(2, ge=0, le=6, description="0 = Monday.")
    paid: bool = Field(False, description="Whether the post is boosted with paid promotion.")
    creator_id: str | None = Field(
        None,
        max_length=200,
        description="Your id of the creator who posts (as in the results you report): their own track "
        "record in your results moves the forecast too; left out, your organisation's norm applies.",
    )
    category: Category | None = Field(
        None, description="What the post is about (the brief's category, e.g. beauty); null: not said."
    )
    on_niche: bool | None = Field(
        None,
        description="Whether that category is one the creator posts about (their own niche): on-niche content "
        "is shown and answered more; null: unknown.",
    )
    message_kind: MessageKind | None = Field(
        None,
        description="What the message does: offer (a discount or a call to act now), product (the product "
        "itself) or story (an inspiration or a story); null: not declared.",
    )
    campaign_id: str | None = Field(
        None, max_length=64, description="Your campaign the message variant belongs to (with variant_id)."
    )
    variant_id: str | None = Field(
        None,
        max_length=64,
        description="The campaign's message variant the post carries: the results your posts of it already "
        "had move the forecast too (see learning.variant_offset).",
    )


BATCH_FORECAST_IN_EXAMPLE = {"items": [FORECAST_IN_EXAMPLE]}


class BatchForecastIn(BaseModel, json_schema_extra={"examples": [BATCH_FORECAST_IN_EXAMPLE]}):
    """Up to 10,000 posts forecast in one call."""

    model_config = ConfigDict(extra="forbid")

    items: list[ForecastIn] = Field(
        min_length=1, max_length=10_000, description="The posts, 1 to 10,000; answered in the same order."
    )


class ForecastBase(BaseModel):
    """A forecast of every metric for one post, as p10/p50/p90 ranges."""

    metrics: list[MetricForecast] = Field(
        description="Each metric as a p10/p50/p90 range with its definition."
    )
    model_name: str = Field(description="Name of the forecasting model.")
    model_version: str = Field(description="Version of that model; quote it when you question a forecast.")


class LearningOut(BaseModel):
    """What your organisation's own results changed against the pooled model every organisation starts from."""

    org_id: str = Field(description="The organisation whose results were applied: the caller's.")
    results: int = Field(description="How many of its latest scored results the adjustment was learnt from.")
    org_offset: dict[str, float] = Field(
        description="Per learnt metric (reach, engagements): the organisation's offset added to the pooled "
        "model's log(1 + value) quantiles, shrunk toward 0 while it has few results."
    )
    creator_offset: dict[str, float] = Field(
        description="Per learnt metric: the named creator's own baseline on top, same units; empty when no "
        "creator_id was given or the creator has no results of yours yet."
    )
    variant_offset: dict[str, float] = Field(
        default_factory=dict,
        description="Per learnt metric: the message variant's own offset on top (what its posts' results "
        "showed beyond the organisation's and the creators' offsets), same units; empty when no campaign_id "
        "and variant_id were given or the variant has no results of yours yet.",
    )
    factor: dict[str, float] = Field(
        description="Per learnt metric: about how many times the pooled model's figures these offsets make "
        "it (exp of their sum; clicks and conversions follow engagements)."
    )


class ForecastOut(ForecastBase):
    """A forecast of every metric for one post, as p10/p50/p90 ranges."""

    learning: LearningOut | None = Field(
        None,
        description="What your organisation's own results changed against the pooled model; null: the "
        "pooled model as is (no scored results of yours yet).",
    )


class StoredForecastOut(ForecastBase):
    """A forecast as stored for a campaign's creator (made when review approved the creator, or for each
    line still to post when a plan is approved)."""

    forecast_id: str = Field(description="Id of the stored forecast (use it to adjust it).")
    campaign_id: str | None = Field(description="The campaign it was made for, or null.")
    creator_id: str | None = Field(description="The creator it was made for, or null.")
    platform: str = Field(description="The platform forecast.")
    format: str = Field(description="The format forecast.")
    market: str = Field(description="The market forecast (ISO 3166-1 alpha-2).")
    line_id: str | None = Field(
        None, description="The approved plan's line it forecasts (planned content); null: made at approval."
    )
    created_at: datetime = Field(description="When it was made (UTC).")


class PlanAccount(BaseModel):
    """A creator's account a plan may post on."""

    model_config = ConfigDict(extra="forbid")

    platform: Platform = Field(description="The network.")
    followers: int = Field(ge=0, description="Followers on it.")
    engagement_rate: float = Field(ge=0, le=1, description="Engagement rate, fraction 0-1.")
    cost_per_post_usd: float = Field(
        0.0, ge=0, description="What one post costs, US dollars (0 when unknown or free)."
    )


class PlanCreator(BaseModel):
    """A creator a plan may use."""

    model_config = ConfigDict(extra="forbid")

    creator_id: str = Field(
        min_length=1, max_length=64, description="Your id for the creator (1-64 characters)."
    )
    market: Market = Field(description="Target country (ISO 3166-1 alpha-2), e.g. DE.")
    market_share: float = Field(
        0.5, ge=0, le=1, description="Share of the creator's audience in that market, 0-1."
    )
    accounts: list[PlanAccount] = Field(min_length=1, description="The creator's accounts (at least one).")
    categories: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="What the creator posts about (their niche, e.g. beauty); with the plan's category it "
        "tells on-niche creators (forecast higher) from off-niche ones. Empty: unknown.",
    )


class PlanContent(BaseModel):
    """A piece of content to schedule (every creator posts each one at most once)."""

    model_config = ConfigDict(extra="forbid")

    content_id: str = Field(
        min_length=1, max_length=64, description="Your id for the content (1-64 characters)."
    )
    format: ContentFormat = Field(description="Its format: post, reel, story, long_video or stream.")
    after: list[str] = Field(
        default_factory=list, description="Content a creator must post first (e.g. teaser)."
    )
    not_before: date | None = Field(
        None, description="Earliest day any creator may post it (e.g. launch day)."
    )


PLAN_IN_EXAMPLE = {
    "window_start": "2027-03-01",
    "window_end": "2027-03-28",
    "objective": "reach",
    "budget_usd": 10000,
    "content": [
        {"content_id": "teaser", "format": "story"},
        {"content_id": "launch", "format": "reel", "after": ["teaser"]},
    ],
    "creators": [
        {
            "creator_id": "cr-0000042",
            "market": "DE",
            "market_share": 0.62,
            "accounts": [
                {
                    "platform": "instagram",
                    "followers": 85000,
                    "engagement_rate": 0.031,
                    "cost_per_post_usd": 1200,
                }
            ],
        }
    ],
}


class PlanIn(BaseModel, json_schema_extra={"examples": [PLAN_IN_EXAMPLE]}):
    """A campaign window, candidate content and creators, and the constraints a schedule must respect."""

    model_config = ConfigDict(extra="forbid")

    window_start: date = Field(description="First day posts may go out.")
    window_end: date = Field(description="Last day posts may go out (not before window_start).")
    objective: Literal["reach", "engagements"] = Field(
        "reach", description="What to maximise: reach or engagements."
    )
    budget_usd: float | None = Field(
        None, ge=0, description="Most to spend on posts, US dollars; no limit when left out."
    )
    max_posts_per_creator_per_week: int = Field(
        3, ge=1, le=21, description="Most posts by one creator in any 7 days (1-21)."
    )
    min_spacing_days: int = Field(1, ge=1, le=30, description="Days between two posts of one creator.")
    post_hour: int = Field(19, ge=0, le=23, description="Hour of day posts go out, 0-23.")
    category: Category | None = Field(
        None, description="What the campaign's content is about; null: not said."
    )
    content: list[PlanContent] = Field(
        min_length=1, max_length=50, description="The content to schedule (1-50 pieces)."
    )
    creators: list[PlanCreator] = Field(
        min_length=1, max_length=1_000, description="The creators to use (1-1,000)."
    )


class PlannedPost(BaseModel):
    """One post of an optimised schedule."""

    creator_id: str = Field(description="Who posts.")
    content_id: str = Field(description="What is posted.")
    platform: str = Field(description="Where.")
    format: str = Field(description="In which format.")
    day: date = Field(description="On which day.")
    forecast_p50: float = Field(description="Median forecast of the plan's objective metric for this post.")
    value: float = Field(description="forecast_p50 after fatigue (same-day and same-platform repeats)")
    cost_usd: float = Field(description="What it costs, US dollars.")
    why: str = Field(description="Why the optimiser put it here, in words.")


class PlanOut(BaseModel):
    """An optimised schedule, compared with a naive one (every creator posts everything on the first days)."""

    objective: str = Field(description="The metric maximised: reach or engagements.")
    posts: list[PlannedPost] = Field(description="The scheduled posts, by day.")
    total: float = Field(
        description="Forecast total of the objective metric over the plan (fatigue included)."
    )
    naive_total: float = Field(description="The same for the naive schedule.")
    uplift_vs_naive: float | None = Field(
        description="total / naive_total - 1 (0.12 is 12% more); null when the naive total is 0."
    )
    naive_violations: list[str] = Field(description="Constraints the naive schedule would break.")
    spend_usd: float = Field(description="What the plan costs, US dollars.")
    skipped: list[dict[str, str]] = Field(
        description="Posts left out, each with creator_id, content_id and the reason (budget, spacing, ...)."
    )
    explanation: list[str] = Field(description="The plan in a few sentences, for people.")
    model_name: str = Field(description="Name of the forecasting model.")
    model_version: str = Field(description="Version of that model; quote it when you question a forecast.")


ADJUSTMENT_IN_EXAMPLE = {
    "metric": "reach",
    "multiplier": 0.8,
    "reason": "The creator posted less this month.",
    "market": "DE",
}


class AdjustmentIn(BaseModel, json_schema_extra={"examples": [ADJUSTMENT_IN_EXAMPLE]}):
    """A person's change to one metric: a multiplier or an absolute value, with a reason and a market tag."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(
        min_length=1,
        max_length=32,
        description="The metric to adjust: reach, engagements, clicks or conversions.",
    )
    multiplier: float | None = Field(
        None,
        gt=0,
        le=100,
        description="Scale the forecast by this (0-100, e.g. 0.7 for 30% less); give this or absolute_value.",
    )
    absolute_value: float | None = Field(
        None, ge=0, description="Replace the median forecast with this figure; give this or multiplier."
    )
    reason: str = Field(
        min_length=1,
        max_length=2_000,
        description="Why (1-2,000 characters); used later to learn whose adjustments help.",
    )
    market: Market | None = Field(
        None, description="The market it applies to (ISO 3166-1 alpha-2), when narrower than the forecast."
    )
    author: str = Field(
        "",
        max_length=128,
        description="Optional: the adjustment is the caller's; another name is refused (422).",
    )


class AdjustmentOut(BaseModel):
    """A person's change to a forecast, with the model's and the adjusted figures."""

    adjustment_id: str = Field(description="Id of the adjustment.")
    forecast_id: str = Field(description="The forecast adjusted.")
    metric: str = Field(description="The metric adjusted.")
    multiplier: float | None = Field(description="The scale applied, or null.")
    absolute_value: float | None = Field(description="The replacement median, or null.")
    model_p10: float = Field(description="The model's p10 before adjustment.")
    model_p50: float = Field(description="The model's median before adjustment.")
    model_p90: float = Field(description="The model's p90 before adjustment.")
    adjusted_p10: float = Field(description="p10 after adjustment.")
    adjusted_p50: float = Field(description="Median after adjustment.")
    adjusted_p90: float = Field(description="p90 after adjustment.")
    reason: str = Field(description="Why.")
    market: str | None = Field(description="The market it applies to, or null.")
    author: str = Field(
        description="The authenticated person who made it (from the API key), or `system` for a change the flow made."
    )
    source: str = Field(
        description="How it arrived: rest (this API), event (a reviewer's adjustment from the review service) or insight (a lesson or trend applied to a plan)."
    )
    proposed_at: datetime = Field(description="When it was made (UTC).")


class ForecastDetailOut(StoredForecastOut):
    """A stored forecast with its adjustments and how it compared with results."""

    adjustments: list[AdjustmentOut] = Field(description="Every adjustment made to it, oldest first.")
    outcomes: list[dict[str, Any]] = Field(
        description="Results scored against it so far: each with result_id and errors (per metric, actual against p10/p50/p90)."
    )


EXPERIMENT_IN_EXAMPLE = {
    "name": "Spring message test",
    "metric": "ctr",
    "metric_type": "binary",
    "variants": ["A", "B"],
    "baseline": 0.02,
    "mde": 0.005,
}


class ExperimentIn(BaseModel, json_schema_extra={"examples": [EXPERIMENT_IN_EXAMPLE]}):
    """Variants, metric and the design inputs that fix the sample size per arm."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="A name for people (1-200 characters).")
    metric: str = Field(
        min_length=1,
        max_length=64,
        description="The outcome metric compared across arms (e.g. ctr, conversions).",
    )
    metric_type: Literal["binary", "continuous"] = Field(
        "binary", description="binary (a rate: each unit converts or not) or continuous (a value per unit)."
    )
    variants: list[str] = Field(min_length=2, max_length=20, description="Arm names; at least two.")
    control: str | None = Field(None, description="Control arm (default: the first variant).")
    baseline: float = Field(description="Expected control rate (binary) or mean (continuous).")
    mde: float = Field(gt=0, description="Minimum detectable effect, absolute.")
    alpha: float = Field(
        0.05, gt=0, lt=0.5, description="Significance level: chance of a false winner (0-0.5, default 0.05)."
    )
    power: float = Field(
        0.8, ge=0.5, lt=1, description="Chance of detecting an effect of size mde (0.5-1, default 0.8)."
    )
    sd: float | None = Field(None, gt=0, description="Standard deviation; required for a continuous metric.")


class ExperimentOut(BaseModel):
    """A message experiment and the sample size it needs."""

    experiment_id: str = Field(description="Id of the experiment.")
    name: str = Field(description="Its name.")
    metric: str = Field(description="The outcome metric.")
    metric_type: str = Field(description="binary or continuous.")
    variants: list[str] = Field(description="The arms.")
    control: str = Field(description="The control arm.")
    baseline: float = Field(description="Expected control rate or mean.")
    mde: float = Field(description="Minimum detectable effect, absolute.")
    alpha: float = Field(description="Significance level.")
    power: float = Field(description="Power.")
    sd: float | None = Field(description="Standard deviation (continuous metrics), else null.")
    sample_size_per_arm: int = Field(description="Units each arm needs before the result can be read.")
    created_at: datetime = Field(description="When it was created (UTC).")


class ObservationIn(BaseModel):
    """One unit (a viewer, a click) seen in one arm, with its outcome when known."""

    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(
        min_length=1,
        max_length=128,
        description="Your id for the unit (1-128 characters); a unit counts once per arm.",
    )
    variant: str = Field(
        min_length=1, max_length=64, description="The arm it saw (one of the experiment's variants)."
    )
    value: float | None = Field(None, description="Outcome; leave out to record an exposure only.")


OBSERVATIONS_IN_EXAMPLE = {
    "items": [
        {"unit_id": "viewer-1", "variant": "A", "value": 1},
        {"unit_id": "viewer-2", "variant": "B"},
    ]
}


class ObservationsIn(BaseModel, json_schema_extra={"examples": [OBSERVATIONS_IN_EXAMPLE]}):
    """Observations to add to an experiment."""

    model_config = ConfigDict(extra="forbid")

    items: list[ObservationIn] = Field(
        min_length=1, max_length=50_000, description="1 to 50,000 observations."
    )


FORECAST_COLUMNS_IN_EXAMPLE = {
    "followers": [85000, 12000],
    "engagement_rate": [0.031, 0.054],
    "platform": ["instagram", "tiktok"],
    "format": ["reel", "reel"],
    "market": ["DE", "BR"],
    "market_share": [0.62, 0.8],
}


class ForecastColumnsIn(BaseModel, json_schema_extra={"examples": [FORECAST_COLUMNS_IN_EXAMPLE]}):
    """Many plans as columns (one list per field, equal lengths): the bulk path, no object per row."""

    model_config = ConfigDict(extra="forbid")

    followers: list[float] = Field(
        min_length=1, max_length=200_000, description="Followers per row (1-200,000 rows)."
    )
    engagement_rate: list[float] = Field(description="Engagement rate per row, fraction 0-1.")
    platform: list[str] = Field(description="Platform per row.")
    format: list[str] = Field(description="Format per row.")
    market: list[str] = Field(description="Market per row (ISO 3166-1 alpha-2).")
    market_share: list[float] = Field(description="Audience share in the market per row, 0-1.")
    hour: list[int] | None = Field(None, description="Hour of day per row (0-23); default 19.")
    weekday: list[int] | None = Field(None, description="Weekday per row (0 = Monday); default 2.")
    paid: list[bool] | None = Field(None, description="Paid promotion per row; default false.")
    creator_id: list[str | None] | None = Field(
        None, description="Your id of the creator per row (null: none): their own track record moves it too."
    )
    category: list[str | None] | None = Field(
        None, description="What each row's post is about (e.g. beauty; null: not said); default not said."
    )
    on_niche: list[bool | None] | None = Field(
        None, description="Per row, whether the category is the creator's own niche (null: unknown)."
    )
    message_kind: list[str | None] | None = Field(
        None, description="Per row, the message's kind: offer, product or story (null: not declared)."
    )
    campaign_id: list[str | None] | None = Field(
        None,
        description="Per row, your campaign the message variant belongs to (with variant_id; null: none).",
    )
    variant_id: list[str | None] | None = Field(
        None, description="Per row, the campaign's message variant (null: none): its own results move it too."
    )


class PagePostIn(BaseModel):
    """A brand-page post before it goes out, in the UCI 'Facebook metrics' terms."""

    model_config = ConfigDict(extra="forbid")

    page_total_likes: int = Field(gt=0, description="Likes of the brand page when posting.")
    type: Literal["Photo", "Status", "Link", "Video"] = Field(
        description="Post type: Photo, Status, Link or Video."
    )
    category: int = Field(
        ge=1, le=3, description="The UCI data's post category: 1 action (offers), 2 product, 3 inspiration."
    )
    post_month: int = Field(ge=1, le=12, description="Month of posting, 1-12.")
    post_weekday: int = Field(ge=1, le=7, description="1-7 as in the UCI data.")
    post_hour: int = Field(ge=0, le=23, description="Hour of posting, 0-23.")
    paid: bool | None = Field(
        None, description="Whether it is boosted; null when undecided (both are forecast)."
    )


PAGE_POSTS_IN_EXAMPLE = {
    "items": [
        {
            "page_total_likes": 139441,
            "type": "Photo",
            "category": 2,
            "post_month": 12,
            "post_weekday": 4,
            "post_hour": 3,
            "paid": False,
        }
    ]
}


class PagePostsIn(BaseModel, json_schema_extra={"examples": [PAGE_POSTS_IN_EXAMPLE]}):
    """Brand-page posts to forecast."""

    model_config = ConfigDict(extra="forbid")

    items: list[PagePostIn] = Field(min_length=1, max_length=10_000, description="1 to 10,000 posts.")


class ResultIn(Plausible):
    """Actual results of one piece of content by one creator (the payload of REST and partner webhooks)."""

    model_config = ConfigDict(extra="forbid")

    result_id: str = Field(min_length=1, max_length=64, description="The sender's id; repeats are ignored.")
    campaign_id: str = Field(min_length=1, max_length=64, description="The campaign (1-64 characters).")
    creator_id: str = Field(
        min_length=1, max_length=64, description="The creator who posted (1-64 characters)."
    )
    platform: Platform = Field(description="Where it was posted.")
    format: ContentFormat = Field(description="Its format.")
    market: Market = Field(description="The market reported (ISO 3166-1 alpha-2).")
    reach: float = Field(ge=0, description="Unique accounts reached.")
    engagements: float = Field(
        ge=0, description="Likes, comments, shares and saves together, as the platform counts them."
    )
    clicks: float = Field(0, ge=0, description="Link clicks.")
    conversions: float = Field(
        0, ge=0, description="Conversions attributed to the post (purchases, sign-ups)."
    )
    spend_usd: float = Field(0, ge=0, description="What the post cost, US dollars.")
    posted_at: AwareDatetime = Field(description="When it went out (timezone required).")
    period_end: AwareDatetime | None = Field(None, description="When the figures were read (default: now).")
    line_id: str | None = Field(
        None, min_length=1, max_length=64, description="The campaign plan's line (post)."
    )
    variant: str | None = Field(
        None, min_length=1, max_length=64, description="The message variant it carried."
    )


RESULTS_IN_EXAMPLE = {
    "results": [
        {
            "result_id": "res-20270305-0001",
            "campaign_id": "cmp-3f9a1c2b7d4e",
            "creator_id": "cr-0000042",
            "platform": "instagram",
            "format": "reel",
            "market": "DE",
            "reach": 41000,
            "engagements": 1900,
            "clicks": 320,
            "conversions": 12,
            "spend_usd": 1200,
            "posted_at": "2027-03-05T18:00:00Z",
        }
    ]
}


class ResultsIn(BaseModel, json_schema_extra={"examples": [RESULTS_IN_EXAMPLE]}):
    """Results to report (REST body and partner webhook body)."""

    model_config = ConfigDict(extra="forbid")

    results: list[ResultIn] = Field(min_length=1, max_length=5_000, description="1 to 5,000 results.")


class ResultsAccepted(BaseModel):
    """What happened to the reported results."""

    accepted: int = Field(description="New results, staged as campaign.result_reported events.")
    duplicates: int = Field(description="Results whose result_id was already received (nothing changed).")
    result_ids: list[str] = Field(description="Ids of the new results.")
