"""Review tables: tasks created from shortlists and the decisions made on them (the audit trail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
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


class ReviewDecision(SQLModel, table=True):
    __tablename__ = "review_decision"

    decision_id: str = Field(primary_key=True, max_length=64)
    task_id: str = Field(unique=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    decision: str = Field(max_length=16)
    decided_by: str = Field(max_length=100)
    automated: bool
    notes: str = Field(default="", max_length=4000)
    decided_at: datetime
