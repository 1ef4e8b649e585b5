"""Forecast tables: every forecast made, with the model version, kept for later scoring against results."""

from __future__ import annotations

from datetime import datetime
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
    source: str = Field(max_length=16, description="rest | event")
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
