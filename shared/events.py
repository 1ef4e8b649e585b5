"""The event envelope and every versioned event schema, in one place.

Adding an optional field is a minor change; renaming or removing one needs a new `schema_version`
(and, if consumers can't read both, a new topic version in `shared.topics`).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from shared import topics
from shared.plausibility import Plausible
from shared.vocabulary import (
    CampaignObjective,
    CampaignStage,
    CampaignTier,
    ContentFormat,
    Decision,
    EngagementBasis,
    InsightScope,
    MessageKind,
    Platform,
    RiskLevel,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    """Base for event parts: immutable and strict, so a producer's typo fails loudly. Numbers are finite:
    JSON has no NaN or infinity (they were published as `null`, which the event's own schema refuses)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Event(Contract):
    """An event payload. Subclasses declare their type name, schema version, topic and key field."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str]
    key_field: ClassVar[str]

    def key(self) -> str:
        return str(getattr(self, self.key_field))


class EnvelopeMeta(Contract):
    """An envelope's metadata: everything a handler needs besides the payload."""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    schema_version: int
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    producer: str
    correlation_id: str
    org_id: str
    key: str


class Envelope(EnvelopeMeta):
    """What travels on every topic: metadata plus the payload of one event."""

    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))


# --- parts -------------------------------------------------------------------------------------------


class Reason(Contract):
    """One reason behind a score, in words and numbers: `value` compared with `reference`."""

    code: str = Field(
        description="Machine-readable reason, e.g. engagement_low, growth_spike, missing_posts."
    )
    text: str = Field(description="The reason in plain words.")
    value: float | None = Field(
        None, description="The creator's figure behind the reason, when there is one."
    )
    reference: float | None = Field(
        None,
        description="What `value` is compared with (a typical figure for the tier, a threshold), when there is one.",
    )
    direction: int = Field(0, description="+1 supports the suggestion, -1 counts against it, 0 neutral.")
    as_of: AwareDatetime | None = Field(
        None, description="When the figure behind this reason was last updated."
    )


class AccountStats(Contract):
    """Public figures of one social account."""

    platform: Platform = Field(description="The social network.")
    handle: str = Field(description="The account's handle on that network, without @.")
    followers: int = Field(ge=0, description="Followers now.")
    following: int | None = Field(None, ge=0, description="Accounts followed; null when not known.")
    posts: int | None = Field(None, ge=0, description="Posts published; null when not known.")
    engagement_rate: float = Field(
        ge=0,
        le=1,
        description="Average engagements (likes + comments) per post divided by followers (or by views, see `engagement_basis`), as a fraction 0-1: 0.035 is 3.5%.",
    )
    engagement_basis: EngagementBasis = Field(
        "per_follower",
        description="What `engagement_rate` is divided by: per_follower (Instagram style) or per_view (TikTok, YouTube).",
    )
    avg_likes: float = Field(0, ge=0, description="Average likes per recent post.")
    avg_comments: float = Field(0, ge=0, description="Average comments per recent post.")
    avg_views: float = Field(
        0, ge=0, description="Average views per recent post (0 when the network shows none)."
    )
    max_monthly_growth: float = Field(0, description="Largest month-on-month follower growth, as a fraction.")
    median_monthly_growth: float = Field(
        0, description="Median month-on-month follower growth, as a fraction."
    )


class MarketStats(Contract):
    """A creator's audience in one country."""

    market: str = Field(
        min_length=2, max_length=2, description="ISO 3166-1 alpha-2 country code, upper case (e.g. DE)."
    )
    audience_share: float = Field(
        ge=0, le=1, description="Share of the creator's audience in this country, 0-1."
    )
    engagement_rate: float = Field(ge=0, le=1, description="Engagement rate of that audience, fraction 0-1.")


class CreatorSnapshot(Contract, Plausible):
    """What downstream services need to know about a creator at decision time."""

    creator_id: str = Field(description="The creator's id in your catalogue.")
    name: str = Field(description="Display name.")
    home_market: str = Field(description="Country the creator is based in (ISO 3166-1 alpha-2).")
    platform: Platform = Field(description="The creator's main network.")
    followers: int = Field(description="Followers on the main network.")
    engagement_rate: float = Field(description="Engagement rate on the main network, fraction 0-1.")
    engagement_basis: EngagementBasis = Field(
        "per_follower", description="What the engagement rate is divided by: per_follower or per_view."
    )
    categories: list[str] = Field(
        default_factory=list, description="Content categories (e.g. beauty, fitness)."
    )
    audience: list[MarketStats] = Field(
        default_factory=list, description="Audience by country, largest first."
    )


# --- events ------------------------------------------------------------------------------------------


class CreatorUpserted(Event):
    event_type: ClassVar[str] = "creator.upserted"
    topic: ClassVar[str] = topics.CATALOG_CREATORS
    key_field: ClassVar[str] = "creator_id"

    creator_id: str
    name: str
    home_market: str
    languages: list[str]
    categories: list[str]
    accounts: list[AccountStats]
    audience: list[MarketStats]
    price_usd: float | None = None
    updated_at: AwareDatetime


class FraudScored(Event):
    event_type: ClassVar[str] = "fraud.scored"
    topic: ClassVar[str] = topics.FRAUD_SCORES
    key_field: ClassVar[str] = "creator_id"

    creator_id: str
    risk: float = Field(ge=0, le=1)
    level: RiskLevel
    reasons: list[Reason]
    model_name: str
    model_version: str
    scored_at: AwareDatetime
    source_updated_at: AwareDatetime | None = None


class AnomalyDetected(Event):
    event_type: ClassVar[str] = "fraud.anomaly_detected"
    topic: ClassVar[str] = topics.FRAUD_ANOMALIES
    key_field: ClassVar[str] = "creator_id"

    anomaly_id: str
    creator_id: str
    kind: str
    severity: float = Field(ge=0, le=1)
    reasons: list[Reason]
    detected_at: AwareDatetime


class ShareInterval(Contract):
    """One value's share of an audience sample, with its 95% interval (Wilson)."""

    value: str = Field(description="The value (a country code, language code, age band or gender).")
    share: float = Field(ge=0, le=1, description="Its share of the followers whose value is known, 0-1.")
    low: float = Field(ge=0, le=1, description="Lower end of the 95% interval.")
    high: float = Field(ge=0, le=1, description="Upper end of the 95% interval.")


class AudienceBreakdown(Contract):
    """How a follower sample splits on one dimension, among the followers whose value is known."""

    dimension: str = Field(description="country | language | age | gender")
    sample_size: int = Field(ge=0, description="Followers of the sample whose value is known.")
    shares: list[ShareInterval] = Field(default_factory=list, description="Largest share first.")


class AudienceChecked(Event):
    """Fraud classified a sample of a creator's followers: fake share, follower types, demographics.

    On fraud.scores.v1 (keyed by creator, so it stays in order with the creator's scores); consumers that
    do not handle it ignore it."""

    event_type: ClassVar[str] = "fraud.audience_checked"
    topic: ClassVar[str] = topics.FRAUD_SCORES
    key_field: ClassVar[str] = "creator_id"

    check_id: str
    creator_id: str
    state: str = Field(description="ready | low_confidence (too few followers, or the interval too wide)")
    sample_size: int = Field(ge=0)
    fake_share: float | None = Field(None, description="Corrected share; null when low confidence.")
    fake_share_low: float = Field(ge=0, le=1, description="95% interval of the fake share.")
    fake_share_high: float = Field(ge=0, le=1)
    follower_types: dict[str, float] = Field(
        description="real | influencers | mass_followers | suspicious -> share of the sample"
    )
    audience_quality_score: int | None = None
    breakdowns: list[AudienceBreakdown] = Field(default_factory=list)
    model_name: str
    model_version: str
    measured_at: AwareDatetime = Field(description="When the follower sample was taken.")
    checked_at: AwareDatetime


class ShortlistEntry(Contract):
    rank: int = Field(ge=1)
    creator: CreatorSnapshot
    match_score: float = Field(ge=0, le=1)
    fraud_risk: float | None = None
    fraud_level: RiskLevel = "unknown"
    reasons: list[Reason]
    data_as_of: AwareDatetime
    confidence_notes: list[str] = Field(
        default_factory=list,
        description="Why the creator's figures may be thin (empty: high confidence); such a finalist is "
        "never decided by the policy.",
    )
    fraud_scored_at: AwareDatetime | None = Field(
        None, description="When the fraud score was made; older than data_as_of means it is stale."
    )


class ShortlistPublished(Event):
    event_type: ClassVar[str] = "shortlist.published"
    topic: ClassVar[str] = topics.DISCOVERY_SHORTLISTS
    key_field: ClassVar[str] = "campaign_id"

    shortlist_id: str
    campaign_id: str
    brief_name: str
    tier: CampaignTier
    target_markets: list[str]
    model_name: str
    model_version: str
    entries: list[ShortlistEntry]
    created_at: AwareDatetime
    brand: str = Field("", description="The brand the campaign is for; selects its review settings.")


class ReviewRequested(Event):
    event_type: ClassVar[str] = "review.requested"
    topic: ClassVar[str] = topics.REVIEW_TASKS
    key_field: ClassVar[str] = "campaign_id"

    task_id: str
    campaign_id: str
    creator_id: str
    route: str
    route_reason: str
    due_at: AwareDatetime


class ReviewDecided(Event):
    event_type: ClassVar[str] = "review.decided"
    topic: ClassVar[str] = topics.REVIEW_DECISIONS
    key_field: ClassVar[str] = "campaign_id"

    decision_id: str
    task_id: str
    campaign_id: str
    tier: CampaignTier
    decision: Decision
    automated: bool
    decided_by: str
    notes: str = ""
    route_reason: str
    match_score: float
    fraud_risk: float | None = None
    target_markets: list[str]
    creator: CreatorSnapshot
    decided_at: AwareDatetime


class ReviewEscalated(Event):
    """Reviewers disagreed, or a task ran past its due time: a senior person must decide."""

    event_type: ClassVar[str] = "review.escalated"
    topic: ClassVar[str] = topics.REVIEW_TASKS
    key_field: ClassVar[str] = "campaign_id"

    task_id: str
    campaign_id: str
    creator_id: str
    reason: str
    escalated_at: AwareDatetime


class RelationshipUpdated(Event, Plausible):
    """A collaboration's history changed: outcome against forecast, notes, incidents."""

    event_type: ClassVar[str] = "relationship.updated"
    topic: ClassVar[str] = topics.REVIEW_RELATIONSHIPS
    key_field: ClassVar[str] = "creator_id"

    creator_id: str
    campaign_id: str
    status: str = Field(description="proposed | active | completed | declined | incident")
    outcome_vs_forecast: float | None = Field(
        None, description="actual / forecast of the campaign's main metric"
    )
    notes: str = ""
    incidents: list[str] = Field(default_factory=list)
    updated_at: AwareDatetime


class ForecastAdjustmentProposed(Event):
    """A person pushes back on a forecast with market context; forecast stores it beside the model's figure."""

    event_type: ClassVar[str] = "forecast.adjustment_proposed"
    topic: ClassVar[str] = topics.FORECAST_ADJUSTMENTS
    key_field: ClassVar[str] = "forecast_id"

    adjustment_id: str
    forecast_id: str
    metric: str
    multiplier: float | None = Field(None, gt=0)
    absolute_value: float | None = Field(None, ge=0)
    reason: str = Field(min_length=1)
    market: str | None = None
    author: str
    proposed_at: AwareDatetime


class AnomalyReviewed(Event):
    """A person confirmed or dismissed an anomaly: a label for retraining."""

    event_type: ClassVar[str] = "fraud.anomaly_reviewed"
    topic: ClassVar[str] = topics.FRAUD_ANOMALY_LABELS
    key_field: ClassVar[str] = "creator_id"

    anomaly_id: str
    creator_id: str
    kind: str
    verdict: str = Field(description="confirmed | dismissed")
    reviewer: str
    notes: str = ""
    reviewed_at: AwareDatetime


class MetricForecast(Contract):
    """A forecast of one metric as a range: 80% of outcomes are expected between p10 and p90."""

    metric: str = Field(
        description="The metric, e.g. reach, engagements, clicks, conversions, engagement_rate, ctr."
    )
    p10: float = Field(description="10th percentile: a pessimistic outcome (9 in 10 outcomes are above it).")
    p50: float = Field(description="Median: the central forecast.")
    p90: float = Field(description="90th percentile: an optimistic outcome (1 in 10 outcomes is above it).")
    definition: str = Field(
        description="How the metric is counted, in words (what counts as a click, a conversion)."
    )


class ForecastPublished(Event):
    event_type: ClassVar[str] = "forecast.published"
    topic: ClassVar[str] = topics.FORECASTS
    key_field: ClassVar[str] = "campaign_id"

    forecast_id: str
    campaign_id: str
    creator_id: str
    platform: Platform
    format: ContentFormat
    market: str
    metrics: list[MetricForecast]
    model_name: str
    model_version: str
    created_at: AwareDatetime


class ExperimentObservation(Contract):
    unit_id: str = Field(min_length=1, max_length=128)
    variant: str = Field(min_length=1, max_length=64)
    value: float | None = Field(None, description="Outcome; None records an exposure only.")


class ExperimentObservationsRecorded(Event):
    """Exposures and outcomes of an A/B test, in batches (the forecast service analyses them)."""

    event_type: ClassVar[str] = "experiment.observations_recorded"
    topic: ClassVar[str] = topics.EXPERIMENT_OBSERVATIONS
    key_field: ClassVar[str] = "experiment_id"

    experiment_id: str
    observations: list[ExperimentObservation] = Field(min_length=1, max_length=50_000)
    recorded_at: AwareDatetime


class CampaignResultReported(Event, Plausible):
    event_type: ClassVar[str] = "campaign.result_reported"
    topic: ClassVar[str] = topics.CAMPAIGN_RESULTS
    key_field: ClassVar[str] = "campaign_id"

    result_id: str
    campaign_id: str
    creator_id: str
    platform: Platform
    format: ContentFormat
    market: str
    reach: float = Field(ge=0)
    engagements: float = Field(ge=0)
    clicks: float = Field(0, ge=0)
    conversions: float = Field(0, ge=0)
    spend_usd: float = Field(0, ge=0)
    posted_at: AwareDatetime
    line_id: str | None = Field(None, description="The campaign plan's line (post) this result is for.")
    variant: str | None = Field(None, description="The message variant the post carried.")


class ModelPromoted(Event):
    event_type: ClassVar[str] = "model.promoted"
    topic: ClassVar[str] = topics.MODELS_PROMOTED
    key_field: ClassVar[str] = "model_name"

    model_name: str
    model_version: str
    previous_version: str | None
    promoted_at: AwareDatetime


class DriftDetected(Event):
    """Live inputs of a model moved away from its training data (PSI above the alert level)."""

    event_type: ClassVar[str] = "model.drift_detected"
    topic: ClassVar[str] = topics.MODELS_DRIFT
    key_field: ClassVar[str] = "model_name"

    model_name: str
    model_version: str
    service: str
    psi: dict[str, float] = Field(description="feature -> population stability index vs the training data")
    rows: int
    detected_at: AwareDatetime


class ForecastErrorDrifted(Event):
    """The forecast model's error on recent results in one market and platform rose past the alert level."""

    event_type: ClassVar[str] = "model.error_drifted"
    topic: ClassVar[str] = topics.MODELS_DRIFT
    key_field: ClassVar[str] = "model_name"

    model_name: str
    model_version: str
    market: str
    platform: str
    metric: str
    mdape: float = Field(
        description="median absolute percentage error of the model's median on recent results"
    )
    threshold: float
    results: int
    detected_at: AwareDatetime


class WebhookEndpointDisabled(Event):
    """A partner's endpoint kept failing and was disabled: the owner is told, deliveries wait for re-enabling."""

    event_type: ClassVar[str] = "webhook.endpoint_disabled"
    topic: ClassVar[str] = topics.INTEGRATIONS_WEBHOOKS
    key_field: ClassVar[str] = "endpoint_id"

    endpoint_id: str
    url: str
    reason: str
    disabled_at: AwareDatetime


# --- campaigns: one record across services (see docs/campaigns.md) -------------------------------------


class CampaignOpened(Event):
    """A brief was accepted (discovery): the campaign exists from here on, under the brief's campaign id."""

    event_type: ClassVar[str] = "campaign.opened"
    topic: ClassVar[str] = topics.CAMPAIGN_LIFECYCLE
    key_field: ClassVar[str] = "campaign_id"

    campaign_id: str
    name: str
    brand: str = ""
    objective: CampaignObjective = "awareness"
    category: str
    tier: CampaignTier
    markets: list[str]
    platforms: list[Platform]
    budget_usd: float | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    keywords: list[str] = Field(default_factory=list)
    brand_values: list[str] = Field(default_factory=list)
    owner: str = Field(description="The authenticated principal who created the brief.")
    opened_at: AwareDatetime


class CampaignStageChanged(Event):
    """The campaign moved to another stage (the review service's campaign record decides the stage)."""

    event_type: ClassVar[str] = "campaign.stage_changed"
    topic: ClassVar[str] = topics.CAMPAIGN_LIFECYCLE
    key_field: ClassVar[str] = "campaign_id"

    campaign_id: str
    stage: CampaignStage
    previous_stage: CampaignStage | None = None
    reason: str
    changed_by: str = Field(description="A principal, or 'system' for a transition the flow made.")
    changed_at: AwareDatetime


class MessageVariant(Contract):
    """One message (an arm of the campaign's message experiment)."""

    variant_id: str = Field(
        min_length=1,
        max_length=64,
        description="Your id for the message (1-64 characters), unique within the campaign.",
    )
    text: str = Field(
        min_length=1,
        max_length=2000,
        description="The message itself, as the creators will get it (1-2,000 characters).",
    )
    kind: MessageKind | None = Field(
        None,
        description="What the message does, if you say: offer (a discount or a call to act now), product "
        "(the product itself) or story (an inspiration or a story). The forecast knows how each kind "
        "does; the variant's own results move its forecasts on top.",
    )


class PlanLine(Contract):
    """One post of a content plan: creator x platform x format x message x date, with its forecast."""

    line_id: str = Field(description="Id of the line within the plan (use it to edit the line).")
    creator_id: str = Field(description="The creator who posts.")
    creator_name: str = Field("", description="The creator's display name, for people reading the plan.")
    platform: Platform = Field(description="Where it is posted.")
    format: ContentFormat = Field(description="What is posted: post, reel, story, long_video or stream.")
    market: str = Field(description="The country the post targets (ISO 3166-1 alpha-2).")
    variant_id: str = Field(description="The message variant it carries.")
    scheduled_on: date = Field(description="The day it goes out.")
    cost_usd: float = Field(ge=0, description="What the post costs, in US dollars.")
    locked: bool = Field(False, description="A person fixed this line; re-planning keeps it as it is.")
    forecast: list[MetricForecast] = Field(description="What the post is expected to achieve.")
    reason: str = Field(description="Why the planner chose this line, in words.")


class CampaignPlanUpdated(Event):
    """A version of the campaign's content plan (forecast): the AI's proposal or a person's edit, re-forecast."""

    event_type: ClassVar[str] = "campaign.plan_updated"
    topic: ClassVar[str] = topics.CAMPAIGN_LIFECYCLE
    key_field: ClassVar[str] = "campaign_id"

    campaign_id: str
    version: int = Field(ge=1)
    lines: list[PlanLine]
    variants: list[MessageVariant] = Field(default_factory=list)
    total_cost_usd: float = Field(ge=0)
    budget_usd: float | None = None
    totals: list[MetricForecast] = Field(default_factory=list, description="Sum over the lines, per metric.")
    changed_by: str = Field(description="A principal, or 'system' for the AI's proposal.")
    change: str = Field(description="What changed, in words: 'proposed', 'moved line l-3 to 2026-12-09' ...")
    why: str = ""
    approved: bool = Field(False, description="True once a person approved this version to go live.")
    updated_at: AwareDatetime


class PostBelowForecast(Event):
    """A post's result fell below its forecast's p10: an alert on the campaign."""

    event_type: ClassVar[str] = "campaign.post_below_forecast"
    topic: ClassVar[str] = topics.CAMPAIGN_LIFECYCLE
    key_field: ClassVar[str] = "campaign_id"

    campaign_id: str
    line_id: str
    creator_id: str
    metric: str
    actual: float
    p10: float
    p50: float
    detected_at: AwareDatetime


class CampaignCloseRequested(Event):
    """A person closed the campaign (review): forecast answers with the retrospective."""

    event_type: ClassVar[str] = "campaign.close_requested"
    topic: ClassVar[str] = topics.CAMPAIGN_LIFECYCLE
    key_field: ClassVar[str] = "campaign_id"

    campaign_id: str
    closed_by: str
    reason: str = ""
    closed_at: AwareDatetime


class Contribution(Contract):
    """One part of a campaign's forecast miss: the lines sharing one value of one dimension."""

    dimension: str = Field(description="creator | platform | format | market | message | timing")
    value: str = Field(description="The value of that dimension (a creator id, a platform, 'week 2' ...).")
    forecast: float = Field(description="Sum of the median forecasts of the posted lines with this value.")
    actual: float = Field(description="Sum of their results.")
    miss: float = Field(description="actual - forecast, in the metric's unit")
    share_of_miss: float = Field(description="miss / total miss (signed)")
    explained_miss: float | None = Field(
        None,
        description="The part of the miss this value accounts for with the other dimensions held fixed "
        "(forecast's joint additive fit); unlike `miss`, a platform does not inherit its creators' misses.",
    )


class PushBack(Contract):
    """A person's adjustment of the forecast behind a line, and whether the result proved it right."""

    author: str = Field(description="Who adjusted the forecast.")
    metric: str = Field(description="The metric adjusted.")
    multiplier: float = Field(description="Adjusted p50 / the model's p50.")
    reason: str = Field("", description="Why, in the person's words.")
    insight_id: str | None = Field(None, description="The lesson or trend call it applied, if any.")
    right: bool | None = Field(
        None, description="The adjusted figure was closer to the actual; None: no actual."
    )


class RetrospectiveLine(Contract):
    """A plan line as it turned out, with the decisions behind it."""

    line_id: str = Field(description="The plan line.")
    creator_id: str = Field(description="The creator who posted it.")
    platform: Platform = Field(description="Platform of the post.")
    format: ContentFormat = Field(description="Content format of the post.")
    market: str = Field(description="Market of the post (ISO 3166-1 alpha-2).")
    variant_id: str = Field(description="The message variant it carried.")
    forecast_p10: float = Field(
        description="Pessimistic forecast (10th percentile) of the campaign's metric."
    )
    forecast_p50: float = Field(description="Median forecast of the campaign's metric.")
    forecast_p90: float = Field(description="Optimistic forecast (90th percentile) of the campaign's metric.")
    actual: float | None = Field(description="The result in the campaign's metric; None: never reported.")
    spend_usd: float = Field(0, description="Reported spend (the planned cost when none was reported), USD.")
    decided_by: str | None = Field(
        None, description="Who approved the creator ('policy:...' when automated)."
    )
    automated: bool | None = Field(None, description="Whether the approval was decided without a person.")
    push_backs: list[PushBack] = Field(
        default_factory=list, description="People's adjustments of the forecast behind the line."
    )


class CampaignRetrospectiveReady(Event):
    """Forecast against actual for a closed campaign, decomposed by dimension (forecast)."""

    event_type: ClassVar[str] = "campaign.retrospective_ready"
    topic: ClassVar[str] = topics.CAMPAIGN_LIFECYCLE
    key_field: ClassVar[str] = "campaign_id"

    campaign_id: str = Field(description="The closed campaign.")
    metric: str = Field(description="The objective's main metric: reach, engagements or conversions.")
    forecast_total: float = Field(description="Sum of the median forecasts of the posted lines.")
    actual_total: float = Field(description="Sum of their results.")
    spend_usd: float = Field(description="Total spend, US dollars.")
    contributions: list[Contribution] = Field(
        description="Largest absolute miss first (by explained_miss where given: the likeliest causes first)."
    )
    lines: list[RetrospectiveLine] = Field(description="Every plan line as it turned out, in plan order.")
    message_winner: str | None = Field(None, description="The message variant that won, if one did.")
    message_win_probability: float | None = Field(
        None, ge=0, le=1, description="Probability the leading variant is the best."
    )
    message_summary: str = Field("", description="The message comparison in words.")
    computed_at: AwareDatetime = Field(description="When the retrospective was computed.")


class LessonRecorded(Event):
    """A person's diagnosis after a retrospective, scoped so it shows where it applies next time (review)."""

    event_type: ClassVar[str] = "insight.lesson_recorded"
    topic: ClassVar[str] = topics.CAMPAIGN_INSIGHTS
    key_field: ClassVar[str] = "lesson_id"

    lesson_id: str
    campaign_id: str
    scope: InsightScope
    scope_value: str = Field(description="The market code, category, creator id, format ... it applies to.")
    market: str | None = Field(None, description="Narrows a non-market scope to one market.")
    text: str = Field(min_length=1, max_length=2000)
    rule: str = Field("", max_length=500)
    metric: str | None = Field(None, description="The forecast metric the rule adjusts, if any.")
    multiplier: float | None = Field(None, gt=0, description="The rule's adjustment of that metric.")
    author: str
    recorded_at: AwareDatetime


class TrendCalled(Event):
    """A market expert's call on an emerging trend, before the data shows it (review)."""

    event_type: ClassVar[str] = "insight.trend_called"
    topic: ClassVar[str] = topics.CAMPAIGN_INSIGHTS
    key_field: ClassVar[str] = "trend_id"

    trend_id: str
    market: str
    platform: Platform | None = None
    topic_or_format: str = Field(min_length=1, max_length=100)
    direction: str = Field(description="up | down")
    confidence: float = Field(ge=0, le=1)
    expires_on: date
    reason: str = Field(min_length=1, max_length=2000)
    author: str
    called_at: AwareDatetime


EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        CreatorUpserted,
        FraudScored,
        AnomalyDetected,
        AudienceChecked,
        ShortlistPublished,
        ReviewRequested,
        ReviewDecided,
        ReviewEscalated,
        RelationshipUpdated,
        ForecastAdjustmentProposed,
        AnomalyReviewed,
        ForecastPublished,
        CampaignResultReported,
        ExperimentObservationsRecorded,
        ModelPromoted,
        DriftDetected,
        ForecastErrorDrifted,
        WebhookEndpointDisabled,
        CampaignOpened,
        CampaignStageChanged,
        CampaignPlanUpdated,
        PostBelowForecast,
        CampaignCloseRequested,
        CampaignRetrospectiveReady,
        LessonRecorded,
        TrendCalled,
    )
}


class UnknownEventType(ValueError):
    pass


def derived_event_id(source: uuid.UUID, event_type: str) -> str:
    """The id of the `event_type` event that answers event `source`: `str(uuid.uuid5(source, event_type))`
    in a third of the time (stream paths compute it per event). So a re-delivered source event is
    answered under the same id again, and consumers dedupe it."""
    h = hashlib.sha1(source.bytes + event_type.encode()).hexdigest()
    variant = "89ab"[int(h[16], 16) & 0x3]
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def wrap(event: Event, *, producer: str, correlation_id: str, org_id: str) -> Envelope:
    """Put an event in its envelope."""
    return Envelope(
        type=event.event_type,
        schema_version=event.schema_version,
        producer=producer,
        correlation_id=correlation_id,
        org_id=org_id,
        key=event.key(),
        payload=event.model_dump(mode="json"),
    )


def unwrap(envelope: Envelope) -> Event:
    """The typed payload of an envelope; raises on an unknown type or an invalid payload."""
    cls = EVENT_TYPES.get(envelope.type)
    if cls is None:
        raise UnknownEventType(f"unknown event type {envelope.type!r}")
    if envelope.schema_version > cls.schema_version:
        raise UnknownEventType(f"{envelope.type} v{envelope.schema_version} is newer than this reader")
    return cls.model_validate(envelope.payload)


def parse_envelope(raw: bytes) -> Envelope:
    return Envelope.model_validate_json(raw)


@functools.cache
def _typed_envelope(cls: type[Event]) -> type[EnvelopeMeta]:
    return create_model(f"{cls.__name__}Envelope", __base__=EnvelopeMeta, payload=(cls, ...))


def parse_typed(raw: bytes, cls: type[Event]) -> tuple[Event, EnvelopeMeta]:
    """An event expected to be of type `cls`, metadata and payload validated in one pass.

    For hot consumer paths: `parse_envelope` then `unwrap` validate twice and cost twice as much.
    Raises ValidationError, or UnknownEventType if the envelope names another type or a newer version.
    """
    typed = _typed_envelope(cls).model_validate_json(raw)
    if typed.type != cls.event_type or typed.schema_version > cls.schema_version:
        raise UnknownEventType(
            f"expected {cls.event_type} v{cls.schema_version}, got {typed.type} v{typed.schema_version}"
        )
    event: Event = typed.payload  # type: ignore[attr-defined]  # the field create_model added
    return event, typed
