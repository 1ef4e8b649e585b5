"""Fraud tables: the latest score of each creator, with the model version that produced it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


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
