"""Fraud tables: the latest score of each creator, with the model version that produced it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

# The retrain rounds of the fraud risk model (the table shape every service shares); imported here so the
# fraud migrations see it.
from shared.retraining import RetrainRun as RetrainRun


class FraudScore(SQLModel, table=True):
    __tablename__ = "fraud_score"

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    risk: float
    level: str = Field(max_length=16)
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    model_name: str = Field(max_length=64)
    model_version: str = Field(max_length=32)
    scored_at: datetime
    source_updated_at: datetime | None = None


class FraudAnomaly(SQLModel, table=True):
    """One detected anomaly, open until a person confirms or dismisses it."""

    __tablename__ = "fraud_anomaly"

    org_id: str = Field(primary_key=True, max_length=64)
    anomaly_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(index=True, max_length=64)
    campaign_id: str | None = Field(None, max_length=64)
    kind: str = Field(max_length=40)
    severity: float
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str = Field(max_length=16, description="account | history | campaign")
    status: str = Field(default="open", max_length=16, description="open | confirmed | dismissed")
    detected_at: datetime
    features: dict[str, float | None] | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="The creator's risk-model features (services/fraud/features.py) as they were when this was "
        "raised, by name; null values where the feature was NaN. The training row of this anomaly's label.",
    )
    features_at: datetime | None = Field(
        default=None, description="When those account stats were seen (null: no account stats known then)."
    )


class AnomalyLabel(SQLModel, table=True):
    """A person's verdict on an anomaly, kept with the evidence as a training label."""

    __tablename__ = "fraud_anomaly_label"

    org_id: str = Field(primary_key=True, max_length=64)
    anomaly_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(max_length=64)
    kind: str = Field(max_length=40)
    verdict: str = Field(max_length=16)
    reviewer: str = Field(max_length=128)
    notes: str = Field(default="", max_length=2000)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reviewed_at: datetime
