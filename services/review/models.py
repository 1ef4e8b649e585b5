"""Review tables: tasks, the people who review them, their reviews, final decisions (the audit trail),
routing settings, relationship history and the forecasts seen on the bus; the campaign record (read model
and stage) with its plan lines, timeline and alerts; lessons and trend calls."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class ReviewTask(SQLModel, table=True):
    __tablename__ = "review_task"
    __table_args__ = (
        UniqueConstraint("org_id", "campaign_id", "creator_id", "route", name="uq_task_per_route"),
    )

    task_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    campaign_id: str = Field(index=True, max_length=64)
    shortlist_id: str = Field(max_length=64)
    creator_id: str = Field(max_length=64)
    tier: str = Field(max_length=16)
    route: str = Field(max_length=16, description="human | auto | audit")
    route_reason: str = Field(max_length=500)
    status: str = Field(index=True, max_length=16, description="open | decided")
    match_score: float
    fraud_risk: float | None = None
    target_markets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    entry: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    due_at: datetime
    created_at: datetime
    market: str = Field(default="", max_length=2, description="The market whose reviewers judge this task.")
    brief_name: str = Field(default="", max_length=200)
    required_reviews: int = Field(default=1, description="People who must agree: 2 on strategic campaigns.")
    escalated: bool = Field(default=False, index=True)
    escalation_reason: str = Field(default="", max_length=500)


class ReviewDecision(SQLModel, table=True):
    """The final decision on a task, published as ReviewDecided."""

    __tablename__ = "review_decision"

    decision_id: str = Field(primary_key=True, max_length=64)
    task_id: str = Field(unique=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    decision: str = Field(max_length=16)
    decided_by: str = Field(max_length=100)
    automated: bool
    notes: str = Field(default="", max_length=4000)
    decided_at: datetime


class Reviewer(SQLModel, table=True):
    """A person who reviews: in-house staff or a freelance market expert, optionally with a web login."""

    __tablename__ = "reviewer"
    __table_args__ = (UniqueConstraint("org_id", "reviewer_id", name="uq_reviewer"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: str = Field(index=True, max_length=64)
    reviewer_id: str = Field(max_length=100)
    name: str = Field(max_length=200)
    markets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    employment: str = Field(max_length=16, description="in_house | freelance")
    daily_capacity: int
    is_manager: bool = False
    active: bool = True
    password_hash: str = Field(default="", max_length=300)
    created_at: datetime


class WebSession(SQLModel, table=True):
    """A web sign-in: the cookie holds the token, the table its hash; ending a session deletes the row."""

    __tablename__ = "web_session"

    token_sha256: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(max_length=64)
    reviewer_id: str = Field(max_length=100)
    created_at: datetime
    expires_at: datetime = Field(index=True)


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, kept for the throttling window (per account and per client address)."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(index=True, max_length=170)
    address: str = Field(index=True, max_length=64)
    failed_at: datetime = Field(index=True)


class ReviewAssignment(SQLModel, table=True):
    """One person's part in a task: assigned, then their checklist and decision (who, when, what)."""

    __tablename__ = "review_assignment"
    __table_args__ = (UniqueConstraint("task_id", "reviewer_id", name="uq_assignment"),)

    assignment_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    task_id: str = Field(index=True, max_length=64)
    reviewer_id: str = Field(index=True, max_length=100)
    role: str = Field(max_length=16, description="reviewer | escalation")
    status: str = Field(index=True, max_length=16, description="open | done | released")
    assigned_at: datetime
    due_at: datetime
    decision: str | None = Field(default=None, max_length=16)
    checklist: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    notes: str = Field(default="", max_length=4000)
    question: str = Field(default="", max_length=1000)
    decided_at: datetime | None = None
    via: str = Field(default="", max_length=100, description="integration:<key> when a service key acted.")
    over_capacity: bool = Field(default=False, description="Assigned although the person was at capacity.")


class RoutingSetting(SQLModel, table=True):
    """Routing thresholds and sample rates for one campaign or one brand (unset fields use defaults)."""

    __tablename__ = "routing_setting"
    __table_args__ = (UniqueConstraint("org_id", "scope", "scope_id", name="uq_routing_setting"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: str = Field(index=True, max_length=64)
    scope: str = Field(max_length=16, description="campaign | brand")
    scope_id: str = Field(max_length=200)
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by: str = Field(default="", max_length=100)
    updated_at: datetime


class RelationshipEntry(SQLModel, table=True):
    """One line of a creator's history with us: a collaboration, its outcome, a note or an incident."""

    __tablename__ = "relationship_entry"

    entry_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    creator_id: str = Field(index=True, max_length=64)
    campaign_id: str = Field(max_length=64)
    status: str = Field(max_length=16, description="proposed | active | completed | declined | incident")
    outcome_vs_forecast: float | None = None
    notes: str = Field(default="", max_length=4000)
    incidents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    author: str = Field(default="", max_length=100)
    recorded_at: datetime


class ForecastSeen(SQLModel, table=True):
    """A forecast published by the forecast service, kept so the task page can show it."""

    __tablename__ = "forecast_seen"

    forecast_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    campaign_id: str = Field(index=True, max_length=64)
    creator_id: str = Field(index=True, max_length=64)
    market: str = Field(max_length=2)
    platform: str = Field(max_length=16)
    format: str = Field(max_length=16)
    metrics: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    model: str = Field(max_length=100)
    created_at: datetime


class AdjustmentSent(SQLModel, table=True):
    """A forecast push-back a reviewer sent from a task (the forecast service stores the adjustment)."""

    __tablename__ = "adjustment_sent"

    adjustment_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    task_id: str = Field(index=True, max_length=64)
    forecast_id: str = Field(max_length=64)
    metric: str = Field(max_length=32)
    multiplier: float | None = None
    absolute_value: float | None = None
    reason: str = Field(max_length=1000)
    market: str | None = Field(default=None, max_length=2)
    author: str = Field(max_length=100)
    proposed_at: datetime


class FraudSeen(SQLModel, table=True):
    """The latest fraud score of a creator, with its reasons, for the task page."""

    __tablename__ = "fraud_seen"
    __table_args__ = (UniqueConstraint("org_id", "creator_id", name="uq_fraud_seen"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: str = Field(index=True, max_length=64)
    creator_id: str = Field(max_length=64)
    risk: float
    level: str = Field(max_length=16)
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    model: str = Field(max_length=100)
    scored_at: datetime


class OutcomeSeen(SQLModel, table=True):
    """A campaign result seen on the bus, kept to score people's decisions and adjustments against it."""

    __tablename__ = "outcome_seen"
    # Line ids repeat across campaigns ("l-0"...): the portfolio finds a line's results by all three.
    __table_args__ = (Index("ix_outcome_seen_line", "org_id", "campaign_id", "line_id"),)

    # result_id is the client's: unique within an organisation only (migration 0004).
    org_id: str = Field(primary_key=True, index=True, max_length=64)
    result_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(index=True, max_length=64)
    creator_id: str = Field(index=True, max_length=64)
    market: str = Field(max_length=2)
    platform: str = Field(max_length=16)
    format: str = Field(max_length=16)
    reach: float
    engagements: float
    clicks: float = 0
    conversions: float = 0
    spend_usd: float = 0
    posted_at: datetime
    line_id: str | None = Field(default=None, max_length=64)
    variant: str | None = Field(default=None, max_length=64)


class AnomalySeen(SQLModel, table=True):
    """A fraud anomaly seen on the bus and its verdict: a creator with an open one always goes to people."""

    __tablename__ = "anomaly_seen"

    org_id: str = Field(primary_key=True, max_length=64)
    anomaly_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=64)
    status: str = Field(max_length=16, description="open | confirmed | dismissed")
    seen_at: datetime


class Campaign(SQLModel, table=True):
    """One campaign as people see it, built from every service's events; review owns its stage."""

    __tablename__ = "review_campaign"
    __table_args__ = (Index("ix_review_campaign_org_stage", "org_id", "stage"),)

    org_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(default="", max_length=200)
    brand: str = Field(default="", index=True, max_length=200)
    objective: str = Field(default="awareness", max_length=16)
    category: str = Field(default="", max_length=32)
    tier: str = Field(default="volume", max_length=16)
    markets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    platforms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    budget_usd: float | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    brand_values: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner: str = Field(default="", max_length=100)
    stage: str = Field(default="brief", max_length=16)
    stage_changed_at: datetime
    created_at: datetime
    opened_at: datetime | None = Field(default=None, description="None until CampaignOpened arrives.")
    plan_version: int = 0
    plan_approved: bool = False
    plan_cost_usd: float = 0
    plan: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="The newest plan version without its lines (variants, totals, who changed what).",
    )
    retrospective: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    closed_by: str = Field(default="", max_length=100)
    closed_at: datetime | None = None


class CampaignLine(SQLModel, table=True):
    """A line (post) of the campaign's newest plan version, with the forecast of its main metric."""

    __tablename__ = "review_campaign_line"

    org_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    line_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(max_length=64)
    creator_name: str = Field(default="", max_length=200)
    platform: str = Field(max_length=16)
    format: str = Field(max_length=16)
    market: str = Field(max_length=2)
    variant_id: str = Field(max_length=64)
    scheduled_on: date
    cost_usd: float
    locked: bool = False
    p10: float = 0
    p50: float = 0
    p90: float = 0
    forecast: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class CampaignEntry(SQLModel, table=True):
    """One line of a campaign's timeline: a stage move, a plan version, an alert, the close, a lesson..."""

    __tablename__ = "review_campaign_entry"
    __table_args__ = (Index("ix_review_campaign_entry_campaign", "org_id", "campaign_id", "at"),)

    entry_id: str = Field(primary_key=True, max_length=80, description="Derived from the source event's id.")
    org_id: str = Field(max_length=64)
    campaign_id: str = Field(max_length=64)
    at: datetime
    kind: str = Field(max_length=32)
    text: str = Field(max_length=2000)
    who: str = Field(default="system", max_length=100)


class CampaignAlert(SQLModel, table=True):
    """Something wrong on a live campaign: a post below its forecast's p10, or a fraud anomaly."""

    __tablename__ = "review_campaign_alert"
    __table_args__ = (Index("ix_review_campaign_alert_campaign", "org_id", "campaign_id"),)

    alert_id: str = Field(primary_key=True, max_length=80)
    org_id: str = Field(max_length=64)
    campaign_id: str = Field(max_length=64)
    kind: str = Field(max_length=24, description="below_forecast | anomaly")
    creator_id: str = Field(max_length=64)
    line_id: str | None = Field(default=None, max_length=64)
    text: str = Field(max_length=1000)
    severity: float = 0
    detected_at: datetime
    open: bool = True


class Lesson(SQLModel, table=True):
    """A person's diagnosis after a campaign, scoped so it shows where it applies next time."""

    __tablename__ = "review_lesson"

    lesson_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    campaign_id: str = Field(index=True, max_length=64)
    scope: str = Field(max_length=16)
    scope_value: str = Field(max_length=100)
    market: str | None = Field(default=None, max_length=2)
    text: str = Field(max_length=2000)
    rule: str = Field(default="", max_length=500)
    metric: str | None = Field(default=None, max_length=32)
    multiplier: float | None = None
    author: str = Field(max_length=100)
    recorded_at: datetime


class TrendCall(SQLModel, table=True):
    """A market expert's call on an emerging trend, scored later against what happened."""

    __tablename__ = "review_trend_call"

    trend_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    market: str = Field(max_length=2)
    platform: str | None = Field(default=None, max_length=16)
    topic_or_format: str = Field(max_length=100)
    direction: str = Field(max_length=8)
    confidence: float
    expires_on: date
    reason: str = Field(max_length=2000)
    author: str = Field(max_length=100)
    called_at: datetime
