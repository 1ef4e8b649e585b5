"""Request and response bodies of the campaign plan routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.events import MessageVariant, MetricForecast, PlanLine
from shared.vocabulary import ContentFormat, Platform


class PlanProposeIn(BaseModel):
    """What the AI's proposal needs beyond the brief: the messages to test, and the plan's constraints."""

    model_config = ConfigDict(extra="forbid")

    variants: list[MessageVariant] = Field(
        min_length=1, max_length=6, description="The messages to test (arms)."
    )
    formats: list[ContentFormat] | None = Field(
        None, min_length=1, max_length=10,
        description="One post per format per creator (default by objective: 3 posts, e.g. reel, post, reel).")  # fmt: skip
    budget_usd: float | None = Field(None, ge=0, description="Overrides the brief's budget.")
    window_start: date | None = Field(None, description="Default: the brief's start, else tomorrow.")
    window_end: date | None = Field(None, description="Default: the brief's end, else four weeks on.")
    min_spacing_days: int = Field(3, ge=1, le=30, description="Days between two posts of one creator.")
    max_posts_per_creator_per_week: int = Field(2, ge=1, le=21)
    post_hour: int = Field(19, ge=0, le=23)
    replace: bool = Field(False, description="Replace an existing plan with a fresh proposal.")
    why: str = Field("", max_length=2_000)


class LineEditIn(BaseModel):
    """A person's edit of one line; any change but `locked: false` also locks the line."""

    model_config = ConfigDict(extra="forbid")

    creator_id: str | None = Field(
        None, min_length=1, max_length=64, description="Swap in another approved creator."
    )
    platform: Platform | None = None
    scheduled_on: date | None = None
    variant_id: str | None = Field(None, min_length=1, max_length=64)
    cost_usd: float | None = Field(
        None, ge=0, description="The agreed fee for this creator on this platform."
    )
    locked: bool | None = None
    why: str = Field("", max_length=2_000)


class WhyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    why: str = Field("", max_length=2_000)


class VariantsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variants: list[MessageVariant] = Field(min_length=1, max_length=6)
    why: str = Field("", max_length=2_000)


class ApplyInsightIn(BaseModel):
    """Apply a lesson's rule or a trend call; metric and multiplier default to the lesson's rule (a trend
    call: the plan's metric, x(1 +/- 0.2 x confidence))."""

    model_config = ConfigDict(extra="forbid")

    metric: str | None = Field(None, min_length=1, max_length=32)
    multiplier: float | None = Field(None, gt=0, le=10)
    why: str = Field("", max_length=2_000)


class PlanLineOut(PlanLine):
    notes: list[dict[str, Any]] = Field(default_factory=list, description="Lessons and trend calls in scope.")
    posted: bool = False


class PlanOut(BaseModel):
    campaign_id: str
    version: int
    approved: bool
    approved_by: str | None
    changed_by: str
    change: str
    why: str
    objective: str
    metric: str
    window_start: date
    window_end: date
    min_spacing_days: int
    max_posts_per_creator_per_week: int
    budget_usd: float | None
    total_cost_usd: float
    budget_left_usd: float | None
    totals: list[MetricForecast]
    variants: list[MessageVariant]
    adjustments: list[dict[str, Any]]
    lines: list[PlanLineOut]
    created_at: datetime


class PlanVersionOut(BaseModel):
    version: int
    changed_by: str
    change: str
    why: str
    approved: bool
    approved_by: str | None
    total_cost_usd: float
    created_at: datetime
