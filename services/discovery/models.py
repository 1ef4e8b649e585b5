"""Discovery tables: the creator catalogue, campaigns with their shortlists, and the relationship history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


class Creator(SQLModel, table=True):
    __tablename__ = "creator"

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    home_market: str = Field(max_length=2)
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    price_usd: float | None = None
    followers: int = Field(index=True, description="Followers of the largest account.")
    content_hash: str = Field(
        max_length=64, description="Hash of the ingested payload; unchanged re-ingest is a no-op."
    )
    updated_at: datetime
    fraud_risk: float | None = None
    fraud_level: str = Field(default="unknown", max_length=16)
    fraud_reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fraud_model: str | None = Field(default=None, max_length=64)
    fraud_scored_at: datetime | None = None


class CreatorAccount(SQLModel, table=True):
    __tablename__ = "creator_account"

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    platform: str = Field(primary_key=True, max_length=16)
    handle: str = Field(max_length=200)
    followers: int
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CreatorMarket(SQLModel, table=True):
    __tablename__ = "creator_market"
    __table_args__ = (Index("ix_creator_market_lookup", "org_id", "market", "engagement_rate"),)

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    market: str = Field(primary_key=True, max_length=2)
    audience_share: float
    engagement_rate: float


class Campaign(SQLModel, table=True):
    __tablename__ = "campaign"

    campaign_id: str = Field(primary_key=True, max_length=64)
    org_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=200)
    tier: str = Field(max_length=16)
    brief: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime


class Shortlist(SQLModel, table=True):
    __tablename__ = "shortlist"

    shortlist_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(index=True, max_length=64)
    org_id: str = Field(max_length=64)
    model_name: str = Field(max_length=64)
    model_version: str = Field(max_length=32)
    candidates_considered: int
    entries: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime


class Collaboration(SQLModel, table=True):
    """What review decided about a creator for one of our campaigns: the relationship history."""

    __tablename__ = "collaboration"

    org_id: str = Field(primary_key=True, max_length=64)
    creator_id: str = Field(primary_key=True, max_length=64)
    campaign_id: str = Field(primary_key=True, max_length=64)
    decision: str = Field(max_length=16)
    automated: bool
    decided_at: datetime
