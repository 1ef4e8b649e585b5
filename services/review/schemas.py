"""Review request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.vocabulary import Decision


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1, max_length=100)
    decision: Decision
    notes: str = Field("", max_length=4000)
    question: str = Field("", max_length=1000, description="Required when the decision is needs_info.")

    @model_validator(mode="after")
    def _question(self) -> DecisionIn:
        if self.decision == "needs_info" and not self.question.strip():
            raise ValueError("a needs_info decision must say what information is needed (question)")
        return self


class DecisionOut(BaseModel):
    decision_id: str
    task_id: str
    decision: Decision
    decided_by: str
    automated: bool
    notes: str
    decided_at: datetime


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
    decision: DecisionOut | None = None


class CampaignSummary(BaseModel):
    campaign_id: str
    tasks: int
    auto_decided: int
    sent_to_people: int
    audits: int
    open: int
    decisions: dict[str, int]
