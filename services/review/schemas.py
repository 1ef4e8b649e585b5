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
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent).")
    note: str = Field("", max_length=2000)


PERSON_FIELD = "Optional: recorded as the authenticated person; a different name is refused (422)."


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field("", max_length=100, description=PERSON_FIELD)
    decision: Decision
    notes: str = Field("", max_length=4000)
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
    decision_id: str
    task_id: str
    decision: Decision
    decided_by: str
    automated: bool
    notes: str
    decided_at: datetime
    final: bool = Field(True, description="False while other reviewers still have to decide.")
    via: str = Field("", description="The service key that acted for the person (integration:<key>), if any.")
    task_status: str = "decided"
    escalated: bool = False


class ReviewOut(BaseModel):
    """One person's part in a task."""

    reviewer_id: str
    role: str
    status: str
    assigned_at: datetime
    due_at: datetime
    decision: str | None
    checklist: dict[str, Any]
    notes: str
    question: str
    decided_at: datetime | None
    via: str = Field("", description="The service key that acted for the person (integration:<key>), if any.")
    over_capacity: bool = Field(False, description="Assigned although the person was at capacity.")


class TaskOut(BaseModel):
    task_id: str
    campaign_id: str
    creator_id: str
    tier: str
    route: str
    route_reason: str
    status: str
    match_score: float
    fraud_risk: float | None
    entry: dict[str, Any]
    due_at: datetime
    market: str = ""
    brief_name: str = ""
    required_reviews: int = 1
    escalated: bool = False
    escalation_reason: str = ""
    assignees: list[str] = Field(default_factory=list)
    reviews: list[ReviewOut] = Field(default_factory=list)
    decision: DecisionOut | None = None


class CampaignSummary(BaseModel):
    campaign_id: str
    tasks: int
    auto_decided: int
    sent_to_people: int
    audits: int
    open: int
    decisions: dict[str, int]
    escalated: int = 0


class ReviewerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    markets: list[str] = Field(min_length=1, description="ISO 3166-1 alpha-2 markets this person covers.")
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes, e.g. en, ru.")
    employment: Literal["in_house", "freelance"] = "in_house"
    daily_capacity: int = Field(20, ge=1, le=500, description="Tasks this person can take a day.")
    is_manager: bool = Field(False, description="Managers see every queue and decide escalations.")
    active: bool = True
    password: str | None = Field(None, min_length=8, max_length=200, description="Enables web sign-in.")

    @model_validator(mode="after")
    def _markets(self) -> ReviewerIn:
        bad = [m for m in self.markets if m not in MARKETS]
        if bad:
            raise ValueError(f"unknown markets {bad}; known: {', '.join(MARKETS)}")
        return self


class ReviewerOut(BaseModel):
    reviewer_id: str
    name: str
    markets: list[str]
    languages: list[str]
    employment: str
    daily_capacity: int
    is_manager: bool
    active: bool
    open_tasks: int = 0
    can_sign_in: bool = False


class RoutingValues(BaseModel):
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
    scope: str
    scope_id: str
    values: RoutingValues


class RelationshipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: str = Field("", max_length=64)
    status: Literal["proposed", "active", "completed", "declined", "incident"]
    outcome_vs_forecast: float | None = Field(None, ge=0)
    notes: str = Field("", max_length=4000)
    incidents: list[str] = Field(default_factory=list, max_length=20)
    author: str = Field("", max_length=100, description=PERSON_FIELD)


class RelationshipOut(BaseModel):
    entry_id: str
    creator_id: str
    campaign_id: str
    status: str
    outcome_vs_forecast: float | None
    notes: str
    incidents: list[str]
    author: str
    recorded_at: datetime


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field("", max_length=100, description=PERSON_FIELD)
    forecast_id: str | None = Field(None, description="Defaults to the latest forecast for the task.")
    metric: str = Field("reach", max_length=32)
    multiplier: float | None = Field(None, gt=0, le=10)
    absolute_value: float | None = Field(None, ge=0)
    reason: str = Field(min_length=3, max_length=1000)
    market: str | None = Field(None, min_length=2, max_length=2)

    @model_validator(mode="after")
    def _one_value(self) -> AdjustmentIn:
        if (self.multiplier is None) == (self.absolute_value is None):
            raise ValueError("give exactly one of multiplier or absolute_value")
        return self


class AdjustmentOut(BaseModel):
    adjustment_id: str
    task_id: str
    forecast_id: str
    metric: str
    multiplier: float | None
    absolute_value: float | None
    reason: str
    market: str | None
    author: str
    proposed_at: datetime


class TaskContext(BaseModel):
    fraud: dict[str, Any] | None
    forecasts: list[dict[str, Any]]
    history: list[RelationshipOut]
    adjustments: list[AdjustmentOut]
    lessons: list[LessonOut] = Field(default_factory=list, description="Lessons in the task's scope.")
    trends: list[TrendOut] = Field(default_factory=list, description="Live trend calls in its market.")
    checklist: dict[str, str] = Field(
        default_factory=dict, description="The checklist's prompts, the brand's values in the first."
    )


# --- lessons and trend calls ------------------------------------------------------------------------------

ForecastMetric = Literal["reach", "engagements", "clicks", "conversions"]


class LessonIn(BaseModel):
    """A diagnosis after a retrospective. The author is the signed-in principal, never a body field."""

    model_config = ConfigDict(extra="forbid")

    campaign_id: str = Field(min_length=1, max_length=64)
    scope: InsightScope
    scope_value: str = Field(min_length=1, max_length=100, description="Market code, category, creator id...")
    market: str | None = Field(None, description="Narrows a non-market scope to one market.")
    text: str = Field(min_length=3, max_length=2000)
    rule: str = Field("", max_length=500, description="e.g. 'RU 35+: halve reach forecasts for reels'")
    metric: ForecastMetric | None = None
    multiplier: float | None = Field(None, gt=0, le=10)

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
    lesson_id: str
    campaign_id: str
    scope: str
    scope_value: str
    market: str | None
    text: str
    rule: str
    metric: str | None
    multiplier: float | None
    author: str
    recorded_at: datetime


class TrendIn(BaseModel):
    """An expert's call on a trend before the data shows it. The author is the signed-in principal."""

    model_config = ConfigDict(extra="forbid")

    market: str
    platform: Platform | None = None
    topic_or_format: str = Field(min_length=1, max_length=100, description="A format (reel...) or a topic.")
    direction: Literal["up", "down"]
    confidence: float = Field(ge=0, le=1)
    expires_on: date
    reason: str = Field(min_length=3, max_length=2000)

    @model_validator(mode="after")
    def _valid(self) -> TrendIn:
        if self.market not in MARKETS:
            raise ValueError(f"unknown market {self.market!r}; known: {', '.join(MARKETS)}")
        if self.expires_on <= datetime.now(UTC).date():
            raise ValueError(f"expires_on ({self.expires_on}) must be in the future")
        return self


class TrendOut(BaseModel):
    trend_id: str
    market: str
    platform: str | None
    topic_or_format: str
    direction: str
    confidence: float
    expires_on: date
    reason: str
    author: str
    called_at: datetime
    status: str = Field(
        "open", description="open | hit | miss | no_results (scored when expired or enough results)"
    )
    results: int = 0
    actual_vs_forecast: float | None = Field(None, description="Median actual/forecast of matching results.")


# --- campaigns: the portfolio and one campaign --------------------------------------------------------------


class CampaignRow(BaseModel):
    """One campaign in the portfolio: where it stands, what it costs, how it performs, the work on it."""

    campaign_id: str
    name: str
    brand: str
    objective: str
    tier: str
    stage: str
    owner: str
    markets: list[str]
    starts_on: date | None
    ends_on: date | None
    stage_changed_at: datetime
    budget_usd: float | None
    plan_cost_usd: float
    spend_usd: float
    spend_vs_budget: float | None = Field(description="spend / budget")
    metric: str = Field(description="The objective's main metric")
    actual: float = Field(description="The main metric summed over reported results")
    forecast: float = Field(description="Forecast p50 of the lines that reported results")
    results_vs_forecast: float | None = Field(description="actual / forecast")
    results: int
    tasks: int
    backlog: int = Field(description="Review tasks still open")
    overdue_tasks: int
    reviewers: int = Field(description="People with open assignments on it")
    reviews_done: int
    open_anomalies: int
    open_alerts: int


class PortfolioOut(BaseModel):
    campaigns: list[CampaignRow]
    total: int
    page: int
    page_size: int
    brands: list[str] = Field(description="Every brand, for filter choices")
    markets: list[str]


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500)


class CloseOut(BaseModel):
    campaign_id: str
    stage: str
    closed: bool = Field(description="False when it was already closed: nothing changed")
    closed_by: str
    closed_at: datetime | None
