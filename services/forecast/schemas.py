"""Forecast request and response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events import MetricForecast
from shared.vocabulary import MARKETS, ContentFormat, Platform


class ForecastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    followers: int = Field(ge=0)
    engagement_rate: float = Field(ge=0, le=1)
    platform: Platform
    format: ContentFormat
    market: str
    market_share: float = Field(ge=0, le=1, description="Share of the creator's audience in that market.")
    hour: int = Field(19, ge=0, le=23)
    weekday: int = Field(2, ge=0, le=6, description="0 = Monday.")
    paid: bool = False

    @field_validator("market")
    @classmethod
    def _market(cls, v: str) -> str:
        if v not in MARKETS:
            raise ValueError(f"unknown market {v!r} (known: {', '.join(MARKETS)})")
        return v


class BatchForecastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ForecastIn] = Field(min_length=1, max_length=10_000)


class ForecastOut(BaseModel):
    metrics: list[MetricForecast]
    model_name: str
    model_version: str


class StoredForecastOut(ForecastOut):
    forecast_id: str
    campaign_id: str | None
    creator_id: str | None
    platform: str
    format: str
    market: str
    created_at: datetime
