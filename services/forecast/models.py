"""Forecast tables: every forecast made, with the model version, kept for later scoring against results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

# One table shape for every service's retrain rounds (shared/retraining.py); imported here so the
# forecast migrations and `services.forecast.models.RetrainRun` keep finding it.
from shared.retraining import RetrainRun as RetrainRun


class ForecastRecord(SQLModel, table=True):
    __tablename__ = "forecast_record"
    __table_args__ = (UniqueConstraint("org_id", "decision_id", name="uq_forecast_per_decision"),)

    forecast_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    campaign_id: str | None = Field(default=None, index=True, max_length=64)
    creator_id: str | None = Field(default=None, max_length=64)
    decision_id: str | None = Field(default=None, max_length=64)
    line_id: str | None = Field(default=None, max_length=64, description="The plan line it was made for.")
    platform: str = Field(max_length=16)
    format: str = Field(max_length=16)
    market: str = Field(max_length=2)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    metrics: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    model_name: str = Field(max_length=64)
    model_version: str = Field(max_length=32)
    created_at: datetime


class ForecastAdjustment(SQLModel, table=True):
    """A person's change to one metric of a forecast: the model's figure and the adjusted one, who and why."""

    __tablename__ = "forecast_adjustment"

    adjustment_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    forecast_id: str = Field(index=True, max_length=64)
    metric: str = Field(max_length=32)
    multiplier: float | None = None
    absolute_value: float | None = None
    model_p10: float
    model_p50: float
    model_p90: float
    adjusted_p10: float
    adjusted_p50: float
    adjusted_p90: float
    reason: str = Field(max_length=2_000)
    market: str | None = Field(default=None, max_length=2)
    author: str = Field(max_length=128)
    source: str = Field(max_length=16, description="rest | event | insight")
    insight_id: str | None = Field(
        default=None, max_length=64, description="The lesson or trend call applied."
    )
    proposed_at: datetime


class ForecastOutcome(SQLModel, table=True):
    """Actual results of a forecast piece of content, scored against the model's and the adjusted figures."""

    __tablename__ = "forecast_outcome"

    # result_id is the client's: unique within an organisation only (migration 0004).
    org_id: str = Field(primary_key=True, index=True, max_length=64)
    result_id: str = Field(primary_key=True, max_length=64)
    forecast_id: str = Field(index=True, max_length=64)
    actuals: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    errors: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime


class Experiment(SQLModel, table=True):
    __tablename__ = "experiment"

    experiment_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=200)
    metric: str = Field(max_length=64)
    metric_type: str = Field(max_length=16, description="binary | continuous")
    variants: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    control: str = Field(max_length=64)
    baseline: float
    mde: float
    alpha: float
    power: float
    sd: float | None = None
    sample_size_per_arm: int
    created_at: datetime


class ExperimentObservation(SQLModel, table=True):
    """One unit's exposure to a variant, and its outcome once known (value None = exposed, no outcome yet)."""

    __tablename__ = "experiment_observation"
    __table_args__ = (UniqueConstraint("org_id", "experiment_id", "unit_id", name="uq_observation_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: str = Field(index=True, max_length=64)
    experiment_id: str = Field(index=True, max_length=64)
    unit_id: str = Field(max_length=128)
    variant: str = Field(max_length=64)
    value: float | None = None
    observed_at: datetime


class CampaignResult(SQLModel, table=True):
    """A result as received (REST, partner webhook): the idempotency record, whatever was forecast."""

    __tablename__ = "campaign_result"

    # result_id is the client's: unique within an organisation only (migration 0004).
    org_id: str = Field(primary_key=True, index=True, max_length=64)
    result_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(index=True, max_length=64)
    creator_id: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source: str = Field(max_length=80, description="rest | inbound:<source_id>")
    received_at: datetime


# --- campaigns (issue 16): what forecast knows of a campaign, its plan versions, results, retrospective ---


class Campaign(SQLModel, table=True):
    """A campaign as opened with its brief (CampaignOpened): the frame its content plan must fit."""

    __tablename__ = "forecast_campaign"

    org_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    brand: str = Field(default="", max_length=200)
    objective: str = Field(max_length=16)
    category: str = Field(max_length=64)
    markets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    platforms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    budget_usd: float | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    opened_at: datetime


class CampaignCreator(SQLModel, table=True):
    """A creator account people decided on for a campaign (ReviewDecided); the latest decision counts."""

    __tablename__ = "forecast_campaign_creator"

    org_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    platform: str = Field(primary_key=True, max_length=16)
    decision: str = Field(max_length=16)
    decided_by: str = Field(max_length=128)
    automated: bool = False
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    target_markets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    decided_at: datetime


class PlanVersion(SQLModel, table=True):
    """One version of a campaign's content plan: the whole plan, who changed what and why."""

    __tablename__ = "plan_version"

    org_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    total_cost_usd: float
    changed_by: str = Field(max_length=128)
    change: str = Field(max_length=2_000)
    why: str = Field(default="", max_length=2_000)
    approved_by: str | None = Field(default=None, max_length=128)
    approved_at: datetime | None = None
    created_at: datetime


class LineResult(SQLModel, table=True):
    """A result of one post of a campaign plan, as it arrived on campaign.results.v1."""

    __tablename__ = "plan_line_result"

    result_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    campaign_id: str = Field(index=True, max_length=64)
    line_id: str = Field(max_length=64)
    creator_id: str = Field(max_length=64)
    variant_id: str | None = Field(default=None, max_length=64)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    spend_usd: float = 0.0
    posted_at: datetime
    received_at: datetime


class PlanAlert(SQLModel, table=True):
    """A post below its forecast's p10: raised once per line and metric."""

    __tablename__ = "plan_alert"

    org_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    line_id: str = Field(primary_key=True, max_length=64)
    metric: str = Field(primary_key=True, max_length=32)
    actual: float
    p10: float
    p50: float
    detected_at: datetime


class Retrospective(SQLModel, table=True):
    """A closed campaign's forecast against actual (the CampaignRetrospectiveReady payload), computed once."""

    __tablename__ = "forecast_retrospective"

    org_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    closed_by: str = Field(max_length=128)
    computed_at: datetime


class Insight(SQLModel, table=True):
    """A lesson or a trend call (campaign.insights.v1), kept to show on plan lines in its scope."""

    __tablename__ = "forecast_insight"

    insight_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=8, description="lesson | trend")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    recorded_at: datetime
