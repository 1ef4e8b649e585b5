"""Fraud request and response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events import AccountStats, Reason
from shared.vocabulary import RiskLevel


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    creator_id: str | None = Field(None, max_length=64, description="Stored with the score when given.")
    account: AccountStats


class BatchScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ScoreRequest] = Field(min_length=1, max_length=10_000)


class ScoreOut(BaseModel):
    creator_id: str | None
    risk: float
    level: RiskLevel
    reasons: list[Reason]
    model_name: str
    model_version: str


class StoredScoreOut(ScoreOut):
    scored_at: datetime


class BatchScoreOut(BaseModel):
    scores: list[ScoreOut]
