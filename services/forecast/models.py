"""Forecast tables: every forecast made, with the model version, kept for later scoring against results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


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
