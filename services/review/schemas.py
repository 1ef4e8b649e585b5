"""Review request and response bodies."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.vocabulary import MARKETS, Decision, InsightScope, Platform

CHECKLIST_ITEMS: dict[str, str] = {
    "brand_values": "Alignment with the brand's values",
    "creative_brief": "Can handle the creative brief",
    "audience_interest": "Their audience will care about this product",
    "past_collaborations": "Past collaborations and how they went",
    "relationship": "Relationship opportunity beyond this campaign",
}


class ChecklistItem(BaseModel):
    """A reviewer's rating of one checklist point."""

    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent).")
    note: str = Field(
        "", max_length=2000, description="Why, in the reviewer's words (up to 2,000 characters)."
    )


PERSON_FIELD = "Optional: recorded as the authenticated person; a different name is refused (422)."


DECISION_IN_EXAMPLE = {
    "decision": "approve",
    "notes": "Strong fit, audience in DE as briefed.",
    "checklist": {
        "brand_values": {"rating": 4, "note": "Talks about healthy routines often."},
        "audience_interest": {"rating": 5},
    },
}


class DecisionIn(BaseModel, json_schema_extra={"examples": [DECISION_IN_EXAMPLE]}):
    """A reviewer's decision on a task, recorded as the authenticated caller."""

    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field("", max_length=100, description=PERSON_FIELD)
    decision: Decision = Field(
        description="approve (contract the creator), reject, or needs_info (ask a question first; the task stays open)."
    )
    notes: str = Field(
        "", max_length=4000, description="Why, for the team and the audit trail (up to 4,000 characters)."
    )
    question: str = Field("", max_length=1000, description="Required when the decision is needs_info.")
    checklist: dict[str, ChecklistItem] = Field(
        default_factory=dict, description=f"Ratings and notes keyed by {', '.join(CHECKLIST_ITEMS)}."
    )

    @model_validator(mode="after")
    def _question(self) -> DecisionIn:
        if self.decision == "needs_info" and not self.question.strip():
            raise ValueError("a needs_info decision must say what information is needed (question)")
        unknown = set(self.checklist) - set(CHECKLIST_ITEMS)
        if unknown:
            raise ValueError(f"unknown checklist items {sorted(unknown)}; known: {list(CHECKLIST_ITEMS)}")
        return self


class DecisionOut(BaseModel):
    """A decision on a review task, by a person or by the routing policy."""

    decision_id: str = Field(description="Id of the decision.")
    task_id: str = Field(description="The task decided.")
    decision: Decision = Field(description="approve, reject or needs_info.")
    decided_by: str = Field(description="Who decided: a person, or `policy:auto` for an automatic decision.")
    automated: bool = Field(description="True when the routing policy decided without a person.")
    notes: str = Field(description="The decider's notes.")
    decided_at: datetime = Field(description="When it was decided (UTC).")
    final: bool = Field(True, description="False while other reviewers still have to decide.")
    via: str = Field("", description="The service key that acted for the person (integration:<key>), if any.")
    task_status: str = Field(
        "decided",
        description="The task's status after this decision: decided, or open while other reviews are due.",
    )
    escalated: bool = Field(False, description="True when the reviewers disagreed and a manager now decides.")


class ReviewOut(BaseModel):
    """One person's part in a task."""

    reviewer_id: str = Field(description="The person assigned.")
    role: str = Field(
        description="reviewer (one of the task's reviewers) or escalation (a manager deciding a disagreement)."
    )
    status: str = Field(description="open (waiting for them), done, or released (no longer needed).")
    assigned_at: datetime = Field(description="When it was assigned (UTC).")
    due_at: datetime = Field(description="When the person should have decided by (UTC).")
    decision: str | None = Field(description="Their decision, null until they decide.")
    checklist: dict[str, Any] = Field(
        description="Their checklist ratings and notes, keyed by checklist item."
    )
    notes: str = Field(description="Their notes.")
    question: str = Field(description="The information they asked for (needs_info), else empty.")
    decided_at: datetime | None = Field(description="When they decided, null until then.")
    via: str = Field("", description="The service key that acted for the person (integration:<key>), if any.")
    over_capacity: bool = Field(False, description="Assigned although the person was at capacity.")


class TaskOut(BaseModel):
    """A shortlisted creator waiting for (or carrying) a decision."""

    task_id: str = Field(description="Id of the task.")
    campaign_id: str = Field(description="The campaign (from discovery's brief).")
    creator_id: str = Field(description="The creator to decide on.")
    tier: str = Field(description="The campaign's tier: strategic (people decide every finalist) or volume.")
    route: str = Field(
        description="How it was routed: human (people decide), auto (the policy decided) or audit (a person checks an automatic decision)."
    )
    route_reason: str = Field(
        description="Why it took that route, in words (e.g. 'uncertain: match 0.83 outside the auto band')."
    )
    status: str = Field(description="open or decided.")
    match_score: float = Field(description="The creator's match to the brief, 0-1.")
    fraud_risk: float | None = Field(description="The creator's fraud risk, 0-1; null when not scored.")
    entry: dict[str, Any] = Field(
        description="The shortlist entry as discovery published it (creator, scores, reasons)."
    )
    due_at: datetime = Field(description="When it should be decided by (UTC).")
    market: str = Field(
        "",
        description="The market the task is judged for (ISO 3166-1 alpha-2): the creator's home market if the brief targets it, else their largest targeted audience market; reviewers covering it get the task.",
    )
    brief_name: str = Field("", description="The campaign's name.")
    required_reviews: int = Field(
        1, description="How many people must decide (strategic tasks take 2 or more)."
    )
    escalated: bool = Field(False, description="True when reviewers disagreed: a manager decides.")
    escalation_reason: str = Field("", description="Why it was escalated, empty otherwise.")
    assignees: list[str] = Field(default_factory=list, description="People who hold (or held) the task.")
    reviews: list[ReviewOut] = Field(default_factory=list, description="Each person's part in the task.")
    decision: DecisionOut | None = Field(None, description="The final decision, null while the task is open.")


class CampaignSummary(BaseModel):
    """How a campaign's review went: routes taken and decisions made."""

    campaign_id: str = Field(description="The campaign.")
    tasks: int = Field(description="Review tasks created.")
    auto_decided: int = Field(description="Tasks the routing policy decided.")
    sent_to_people: int = Field(description="Tasks sent to people.")
    audits: int = Field(description="Audit samples of automatic decisions sent to people.")
    open: int = Field(description="Tasks still open.")
    decisions: dict[str, int] = Field(description="Decisions made, by kind (approve, reject, needs_info).")
    escalated: int = Field(0, description="Tasks escalated to a manager.")


REVIEWER_IN_EXAMPLE = {
    "name": "Maria Petrova",
    "markets": ["RU", "KZ"],
    "languages": ["ru", "kk"],
    "employment": "in_house",
    "daily_capacity": 20,
}


class ReviewerIn(BaseModel, json_schema_extra={"examples": [REVIEWER_IN_EXAMPLE]}):
    """A person who reviews creators; markets and languages decide which tasks they get."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=200,
        description="The person's display name (1-200 characters).",
    )
    markets: list[str] = Field(min_length=1, description="ISO 3166-1 alpha-2 markets this person covers.")
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes, e.g. en, ru.")
    employment: Literal["in_house", "freelance"] = Field("in_house", description="in_house or freelance.")
    daily_capacity: int = Field(20, ge=1, le=500, description="Tasks this person can take a day.")
    is_manager: bool = Field(False, description="Managers see every queue and decide escalations.")
    active: bool = Field(True, description="Inactive people keep their history but get no new tasks.")
    password: str | None = Field(None, min_length=8, max_length=200, description="Enables web sign-in.")

    @model_validator(mode="after")
    def _markets(self) -> ReviewerIn:
        bad = [m for m in self.markets if m not in MARKETS]
        if bad:
            raise ValueError(f"unknown markets {bad}; known: {', '.join(MARKETS)}")
        return self


class ReviewerOut(BaseModel):
    """A reviewer and their current load."""

    reviewer_id: str = Field(
        description="The reviewer's id, as chosen in PUT /v1/reviewers/{reviewer_id}; their decisions are recorded under it."
    )
    name: str = Field(description="The person's name.")
    markets: list[str] = Field(description="Markets they cover (ISO 3166-1 alpha-2).")
    languages: list[str] = Field(description="Languages they read (ISO 639-1).")
    employment: str = Field(description="in_house or freelance.")
    daily_capacity: int = Field(description="Tasks they can take a day.")
    is_manager: bool = Field(description="Managers see every queue and decide escalations.")
    active: bool = Field(description="Whether they get new tasks.")
    open_tasks: int = Field(0, description="Tasks they hold now.")
    can_sign_in: bool = Field(False, description="Whether a password is set for the reviewer web app.")


ROUTING_VALUES_EXAMPLE = {
    "auto_approve_min_match": 0.85,
    "auto_approve_max_fraud": 0.2,
    "auto_reject_min_fraud": 0.8,
    "audit_sample_rate": 0.1,
}


class RoutingValues(BaseModel, json_schema_extra={"examples": [ROUTING_VALUES_EXAMPLE]}):
    """Routing thresholds and sample rates; a field left out falls back to the brand's or the config's."""

    model_config = ConfigDict(extra="forbid")

    auto_approve_min_match: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Match score from which a volume candidate may be approved without a person.",
    )
    auto_approve_max_fraud: float | None = Field(
        None, ge=0, le=1, description="Highest fraud risk an automatic approval accepts."
    )
    auto_reject_min_fraud: float | None = Field(
        None, ge=0, le=1, description="Fraud risk from which a candidate is rejected without a person."
    )
    audit_sample_rate: float | None = Field(
        None, ge=0, le=1, description="Share of automatic decisions sent to a person as an audit sample."
    )
    first_time_to_people: bool | None = Field(
        None,
        description="Send a creator the brand has never worked with to a person even when it qualifies for auto-approval.",
    )
    # At most a year: a due time is a working promise, and larger numbers overflow the database's integer.
    strategic_due_hours: int | None = Field(
        None, ge=1, le=8760, description="Hours a person has to decide a strategic-tier task."
    )
    volume_due_hours: int | None = Field(None, ge=1, le=8760, description="Hours for a volume-tier task.")


class SettingOut(BaseModel):
    """Routing thresholds stored for a brand or a campaign."""

    scope: str = Field(description="brand or campaign.")
    scope_id: str = Field(description="The brand's name or the campaign's id.")
    values: RoutingValues = Field(
        description="The thresholds set at this scope; unset ones fall back to the brand's, then the service's."
    )


RELATIONSHIP_IN_EXAMPLE = {
    "campaign_id": "cmp-3f9a1c2b7d4e",
    "status": "completed",
    "outcome_vs_forecast": 1.12,
    "notes": "Delivered on time; stories beat the forecast.",
}


class RelationshipIn(BaseModel, json_schema_extra={"examples": [RELATIONSHIP_IN_EXAMPLE]}):
    """A note in a creator's relationship history (how working with them went)."""

    model_config = ConfigDict(extra="forbid")

    campaign_id: str = Field("", max_length=64, description="The campaign it concerns, empty when general.")
    status: Literal["proposed", "active", "completed", "declined", "incident"] = Field(
        description="Where the relationship stands: proposed, active, completed, declined or incident."
    )
    outcome_vs_forecast: float | None = Field(
        None, ge=0, description="Actual / forecast for the campaign (1.0 is on forecast), when known."
    )
    notes: str = Field("", max_length=4000, description="What happened (up to 4,000 characters).")
    incidents: list[str] = Field(
        default_factory=list, max_length=20, description="Problems worth remembering (up to 20 short texts)."
    )
    author: str = Field("", max_length=100, description=PERSON_FIELD)


class RelationshipOut(BaseModel):
    """One entry of a creator's relationship history."""

    entry_id: str = Field(description="Id of the entry.")
    creator_id: str = Field(description="The creator.")
    campaign_id: str = Field(description="The campaign it concerns, empty when general.")
    status: str = Field(description="proposed, active, completed, declined or incident.")
    outcome_vs_forecast: float | None = Field(description="Actual / forecast, when known.")
    notes: str = Field(description="What happened.")
    incidents: list[str] = Field(description="Problems recorded.")
    author: str = Field(
        description="The authenticated person who made it (from the API key or sign-in, never from a request body)."
    )
    recorded_at: datetime = Field(description="When it was recorded (UTC).")


ADJUSTMENT_IN_EXAMPLE = {
    "metric": "reach",
    "multiplier": 0.7,
    "reason": "Summer holidays in RU: reach drops about 30%.",
    "market": "RU",
}


class AdjustmentIn(BaseModel, json_schema_extra={"examples": [ADJUSTMENT_IN_EXAMPLE]}):
    """A reviewer's push-back on a forecast, recorded as the caller and sent to the forecast service."""

    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field("", max_length=100, description=PERSON_FIELD)
    forecast_id: str | None = Field(None, description="Defaults to the latest forecast for the task.")
    metric: str = Field(
        "reach",
        max_length=32,
        description="The forecast metric adjusted: reach, engagements, clicks or conversions.",
    )
    multiplier: float | None = Field(
        None,
        gt=0,
        le=10,
        description="Scale the forecast by this (0-10, e.g. 0.7 for 30% less); give this or absolute_value.",
    )
    absolute_value: float | None = Field(
        None, ge=0, description="Replace the median (p50) forecast with this figure; give this or multiplier."
    )
    reason: str = Field(
        min_length=3,
        max_length=1000,
        description="Why (3-1,000 characters); shown to the team and used to learn whose adjustments help.",
    )
    market: str | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="The market (ISO 3166-1 alpha-2) the adjustment applies to, when it is narrower than the forecast.",
    )

    @model_validator(mode="after")
    def _one_value(self) -> AdjustmentIn:
        if (self.multiplier is None) == (self.absolute_value is None):
            raise ValueError("give exactly one of multiplier or absolute_value")
        return self


class AdjustmentOut(BaseModel):
    """A forecast adjustment proposed on a task."""

    adjustment_id: str = Field(description="Id of the adjustment.")
    task_id: str = Field(description="The task it was made on.")
    forecast_id: str = Field(description="The forecast adjusted.")
    metric: str = Field(description="The metric adjusted.")
    multiplier: float | None = Field(description="The scale applied, or null.")
    absolute_value: float | None = Field(description="The replacement median, or null.")
    reason: str = Field(description="Why.")
    market: str | None = Field(description="The market it applies to, or null.")
    author: str = Field(
        description="The authenticated person who made it (from the API key or sign-in, never from a request body)."
    )
    proposed_at: datetime = Field(description="When it was made (UTC).")


class TaskContext(BaseModel):
    """What a reviewer needs beside the shortlist entry to decide a task."""

    fraud: dict[str, Any] | None = Field(
        description="The creator's latest fraud score (risk, level, reasons), null when not scored."
    )
    forecasts: list[dict[str, Any]] = Field(
        description="The creator's forecasts for this campaign (metrics with p10/p50/p90 and their definitions)."
    )
    history: list[RelationshipOut] = Field(
        description="The creator's relationship history with you, newest first."
    )
    adjustments: list[AdjustmentOut] = Field(description="Forecast adjustments already made on this task.")
    lessons: list[LessonOut] = Field(default_factory=list, description="Lessons in the task's scope.")
    trends: list[TrendOut] = Field(default_factory=list, description="Live trend calls in its market.")
    checklist: dict[str, str] = Field(
        default_factory=dict, description="The checklist's prompts, the brand's values in the first."
    )


# --- lessons and trend calls ------------------------------------------------------------------------------

ForecastMetric = Literal["reach", "engagements", "clicks", "conversions"]


LESSON_IN_EXAMPLE = {
    "campaign_id": "cmp-3f9a1c2b7d4e",
    "scope": "market",
    "scope_value": "RU",
    "text": "Reels reached fewer 35+ viewers than forecast.",
    "rule": "RU 35+: halve reach forecasts for reels",
    "metric": "reach",
    "multiplier": 0.5,
}


class LessonIn(BaseModel, json_schema_extra={"examples": [LESSON_IN_EXAMPLE]}):
    """A diagnosis after a retrospective. The author is the signed-in principal, never a body field."""

    model_config = ConfigDict(extra="forbid")

    campaign_id: str = Field(
        min_length=1, max_length=64, description="The campaign the lesson was learnt on (1-64 characters)."
    )
    scope: InsightScope = Field(
        description="What kind of thing it applies to: market, category, creator, format, message, timing or platform."
    )
    scope_value: str = Field(min_length=1, max_length=100, description="Market code, category, creator id...")
    market: str | None = Field(None, description="Narrows a non-market scope to one market.")
    text: str = Field(min_length=3, max_length=2000, description="The lesson (3-2,000 characters).")
    rule: str = Field("", max_length=500, description="e.g. 'RU 35+: halve reach forecasts for reels'")
    metric: ForecastMetric | None = Field(
        None, description="The forecast metric its rule adjusts (with multiplier), if any."
    )
    multiplier: float | None = Field(
        None,
        gt=0,
        le=10,
        description="How its rule scales that metric's forecasts (0-10, e.g. 0.5 halves them).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> LessonIn:
        if self.market is not None and self.market not in MARKETS:
            raise ValueError(f"unknown market {self.market!r}")
        if self.scope == "market" and self.scope_value not in MARKETS:
            raise ValueError(f"scope_value {self.scope_value!r} is not a market ({', '.join(MARKETS)})")
        if (self.metric is None) != (self.multiplier is None):
            raise ValueError("a rule's metric and multiplier go together: give both or neither")
        return self


class LessonOut(BaseModel):
    """A lesson recorded after a campaign; it shows on briefs, tasks and plans in its scope."""

    lesson_id: str = Field(description="Id of the lesson.")
    campaign_id: str = Field(description="The campaign it was learnt on.")
    scope: str = Field(description="market, category, creator, format, message, timing or platform.")
    scope_value: str = Field(
        description="What it applies to within the scope (a market code, a category...)."
    )
    market: str | None = Field(description="The market it is narrowed to, or null.")
    text: str = Field(description="The lesson.")
    rule: str = Field(description="Its rule of thumb, if any.")
    metric: str | None = Field(description="The metric its rule adjusts, or null.")
    multiplier: float | None = Field(description="How its rule scales that metric, or null.")
    author: str = Field(
        description="The authenticated person who made it (from the API key or sign-in, never from a request body)."
    )
    recorded_at: datetime = Field(description="When it was recorded (UTC).")


TREND_IN_EXAMPLE = {
    "market": "BR",
    "platform": "tiktok",
    "topic_or_format": "reel",
    "direction": "up",
    "confidence": 0.7,
    "expires_on": "2099-06-30",
    "reason": "Short recipe videos are taking off before the season.",
}


class TrendIn(BaseModel, json_schema_extra={"examples": [TREND_IN_EXAMPLE]}):
    """An expert's call on a trend before the data shows it. The author is the signed-in principal."""

    model_config = ConfigDict(extra="forbid")

    market: str = Field(description="The market the trend is in (ISO 3166-1 alpha-2).")
    platform: Platform | None = Field(None, description="The platform, or null for all.")
    topic_or_format: str = Field(min_length=1, max_length=100, description="A format (reel...) or a topic.")
    direction: Literal["up", "down"] = Field(description="up (rising) or down (falling).")
    confidence: float = Field(ge=0, le=1, description="How sure the caller is, 0-1.")
    expires_on: date = Field(
        description="Last day the call applies (in the future); it is scored against results then."
    )
    reason: str = Field(min_length=3, max_length=2000, description="Why (3-2,000 characters).")

    @model_validator(mode="after")
    def _valid(self) -> TrendIn:
        if self.market not in MARKETS:
            raise ValueError(f"unknown market {self.market!r}; known: {', '.join(MARKETS)}")
        if self.expires_on <= datetime.now(UTC).date():
            raise ValueError(f"expires_on ({self.expires_on}) must be in the future")
        return self


class TrendOut(BaseModel):
    """An expert's trend call and, once results are in, whether it was right."""

    trend_id: str = Field(description="Id of the call.")
    market: str = Field(description="The market.")
    platform: str | None = Field(description="The platform, or null for all.")
    topic_or_format: str = Field(description="The topic or format called.")
    direction: str = Field(description="up or down.")
    confidence: float = Field(description="The caller's confidence, 0-1.")
    expires_on: date = Field(description="Last day the call applies.")
    reason: str = Field(description="Why.")
    author: str = Field(
        description="The authenticated person who made it (from the API key or sign-in, never from a request body)."
    )
    called_at: datetime = Field(description="When the call was made (UTC).")
    status: str = Field(
        "open", description="open | hit | miss | no_results (scored when expired or enough results)"
    )
    results: int = Field(0, description="Campaign results matching the call so far.")
    actual_vs_forecast: float | None = Field(None, description="Median actual/forecast of matching results.")


# --- campaigns: the portfolio and one campaign --------------------------------------------------------------


class CampaignRow(BaseModel):
    """One campaign in the portfolio: where it stands, what it costs, how it performs, the work on it."""

    campaign_id: str = Field(description="The campaign.")
    name: str = Field(description="Its name.")
    brand: str = Field(description="Its brand ('' when none).")
    objective: str = Field(description="awareness, engagement or conversions.")
    tier: str = Field(description="strategic or volume.")
    stage: str = Field(description="Where it is: brief, shortlist, review, planning, live or closed.")
    owner: str = Field(description="Who created the brief.")
    markets: list[str] = Field(description="Target markets (ISO 3166-1 alpha-2).")
    starts_on: date | None = Field(description="First day, if set.")
    ends_on: date | None = Field(description="Last day, if set.")
    stage_changed_at: datetime = Field(description="When it entered its current stage (UTC).")
    budget_usd: float | None = Field(description="Budget in US dollars, if set.")
    plan_cost_usd: float = Field(description="What the current content plan costs, US dollars.")
    spend_usd: float = Field(description="Cost of the posts that went out, US dollars.")
    spend_vs_budget: float | None = Field(description="spend / budget")
    metric: str = Field(description="The objective's main metric")
    actual: float = Field(description="The main metric summed over reported results")
    forecast: float = Field(description="Forecast p50 of the lines that reported results")
    results_vs_forecast: float | None = Field(description="actual / forecast")
    results: int = Field(description="Result reports received.")
    tasks: int = Field(description="Review tasks.")
    backlog: int = Field(description="Review tasks still open")
    overdue_tasks: int = Field(description="Open review tasks past their due time.")
    reviewers: int = Field(description="People with open assignments on it")
    reviews_done: int = Field(description="Reviews people have completed.")
    open_anomalies: int = Field(description="Fraud anomalies on its creators still to be reviewed.")
    open_alerts: int = Field(description="Tracking alerts (results off forecast) still open.")


class PortfolioOut(BaseModel):
    """One page of the campaign portfolio."""

    campaigns: list[CampaignRow] = Field(description="The campaigns on this page.")
    total: int = Field(description="Campaigns matching the filters, on all pages.")
    page: int = Field(description="This page's number, from 1.")
    page_size: int = Field(description="Campaigns per page.")
    brands: list[str] = Field(description="Every brand, for filter choices")
    markets: list[str] = Field(description="Every market in the portfolio, for filter choices.")


CLOSE_IN_EXAMPLE = {"reason": "All posts are out and results are in."}


class CloseIn(BaseModel, json_schema_extra={"examples": [CLOSE_IN_EXAMPLE]}):
    """Closing a campaign (it then gets a retrospective)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500, description="Why it is closed now (up to 500 characters).")


class CloseOut(BaseModel):
    """The campaign after the close request."""

    campaign_id: str = Field(description="The campaign.")
    stage: str = Field(description="Its stage now (closed).")
    closed: bool = Field(description="False when it was already closed: nothing changed")
    closed_by: str = Field(
        description="The authenticated person who made it (from the API key or sign-in, never from a request body)."
    )
    closed_at: datetime | None = Field(description="When it was closed (UTC); null if never.")
