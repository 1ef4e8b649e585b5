"""Request and response bodies of the campaign plan routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.forecast.schemas import LearningOut
from shared.events import MessageVariant, MetricForecast, PlanLine
from shared.vocabulary import ContentFormat, Platform

MESSAGES_EXAMPLE = [
    {"variant_id": "A", "text": "Your first workout takes 7 minutes."},
    {"variant_id": "B", "text": "No gym, no excuses: train at home."},
]
PLAN_PROPOSE_IN_EXAMPLE = {
    "variants": MESSAGES_EXAMPLE,
    "formats": ["reel", "story"],
    "why": "First proposal",
}


class PlanProposeIn(BaseModel, json_schema_extra={"examples": [PLAN_PROPOSE_IN_EXAMPLE]}):
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
    max_posts_per_creator_per_week: int = Field(
        2, ge=1, le=21, description="Most posts by one creator in any 7 days (1-21)."
    )
    post_hour: int = Field(19, ge=0, le=23, description="Hour of day posts go out, 0-23.")
    replace: bool = Field(False, description="Replace an existing plan with a fresh proposal.")
    why: str = Field(
        "",
        max_length=2_000,
        description="Why, in a few words (up to 2,000 characters); kept in the plan's version history.",
    )


LINE_EDIT_IN_EXAMPLE = {
    "scheduled_on": "2027-03-12",
    "cost_usd": 1100,
    "why": "The creator is travelling until the 11th.",
}


class LineEditIn(BaseModel, json_schema_extra={"examples": [LINE_EDIT_IN_EXAMPLE]}):
    """A person's edit of one line; any change but `locked: false` also locks the line."""

    model_config = ConfigDict(extra="forbid")

    creator_id: str | None = Field(
        None, min_length=1, max_length=64, description="Swap in another approved creator."
    )
    platform: Platform | None = Field(None, description="Move the post to this platform.")
    scheduled_on: date | None = Field(None, description="Move the post to this day.")
    variant_id: str | None = Field(
        None, min_length=1, max_length=64, description="Carry this message variant instead."
    )
    cost_usd: float | None = Field(
        None, ge=0, description="The agreed fee for this creator on this platform."
    )
    locked: bool | None = Field(
        None, description="true keeps the line through re-planning; false unlocks it."
    )
    why: str = Field(
        "",
        max_length=2_000,
        description="Why, in a few words (up to 2,000 characters); kept in the plan's version history.",
    )


WHY_IN_EXAMPLE = {"why": "The creator cancelled."}


class WhyIn(BaseModel, json_schema_extra={"examples": [WHY_IN_EXAMPLE]}):
    """A plan change that needs only a reason."""

    model_config = ConfigDict(extra="forbid")

    why: str = Field(
        "",
        max_length=2_000,
        description="Why, in a few words (up to 2,000 characters); kept in the plan's version history.",
    )


VARIANTS_IN_EXAMPLE = {
    "variants": MESSAGES_EXAMPLE[:1],
    "why": "Legal rejected variant B.",
}


class VariantsIn(BaseModel, json_schema_extra={"examples": [VARIANTS_IN_EXAMPLE]}):
    """The campaign's message variants, replacing the current ones."""

    model_config = ConfigDict(extra="forbid")

    variants: list[MessageVariant] = Field(min_length=1, max_length=6, description="The messages (1-6).")
    why: str = Field(
        "",
        max_length=2_000,
        description="Why, in a few words (up to 2,000 characters); kept in the plan's version history.",
    )


APPLY_INSIGHT_IN_EXAMPLE = {"why": "Last spring's lesson applies here."}


class ApplyInsightIn(BaseModel, json_schema_extra={"examples": [APPLY_INSIGHT_IN_EXAMPLE]}):
    """Apply a lesson's rule or a trend call; metric and multiplier default to the lesson's rule (a trend
    call: the plan's metric, x(1 +/- 0.2 x confidence))."""

    model_config = ConfigDict(extra="forbid")

    metric: str | None = Field(
        None,
        min_length=1,
        max_length=32,
        description="The metric to scale (default: the lesson's, or the plan's for a trend).",
    )
    multiplier: float | None = Field(
        None,
        gt=0,
        le=10,
        description="The scale (0-10; default: the lesson's rule, or 1 +/- 0.2 x confidence for a trend).",
    )
    why: str = Field(
        "",
        max_length=2_000,
        description="Why, in a few words (up to 2,000 characters); kept in the plan's version history.",
    )


class PlanLineOut(PlanLine):
    """One line of a campaign plan, with the insights that apply to it."""

    notes: list[dict[str, Any]] = Field(default_factory=list, description="Lessons and trend calls in scope.")
    posted: bool = Field(False, description="True once results for it arrived (it can no longer be edited).")
    learning: LearningOut | None = Field(
        None,
        description="What your organisation's own results changed in this line's forecast (its creator's "
        "record, its message's results: `variant_offset`); null: the pooled model as is.",
    )


class PlanOut(BaseModel):
    """A campaign's content plan at one version."""

    campaign_id: str = Field(description="The campaign.")
    version: int = Field(description="Version number, from 1; every change makes a new version.")
    approved: bool = Field(description="Whether a strategist approved this version.")
    approved_by: str | None = Field(description="Who approved it, or null.")
    changed_by: str = Field(
        description="The authenticated person who made it (from the API key), or `system` for a change the flow made."
    )
    change: str = Field(description="What this version changed, in words.")
    why: str = Field(description="The reason given for the change.")
    objective: str = Field(description="The campaign's objective: awareness, engagement or conversions.")
    metric: str = Field(description="The metric the plan maximises (from the objective).")
    window_start: date = Field(description="First day posts may go out.")
    window_end: date = Field(description="Last day posts may go out.")
    min_spacing_days: int = Field(description="Days between two posts of one creator.")
    max_posts_per_creator_per_week: int = Field(description="Most posts by one creator in any 7 days.")
    budget_usd: float | None = Field(description="Budget in US dollars, or null.")
    total_cost_usd: float = Field(description="What the plan's lines cost, US dollars.")
    budget_left_usd: float | None = Field(
        description="budget_usd - total_cost_usd, or null without a budget."
    )
    totals: list[MetricForecast] = Field(
        description="Forecast totals over all lines, per metric (p10/p50/p90)."
    )
    variants: list[MessageVariant] = Field(description="The message variants tested.")
    adjustments: list[dict[str, Any]] = Field(
        description="Lessons and trend calls applied to the plan (metric, multiplier, insight, who)."
    )
    lines: list[PlanLineOut] = Field(description="The posts, by day.")
    created_at: datetime = Field(description="When this version was made (UTC).")


class PlanVersionOut(BaseModel):
    """One version in a plan's history."""

    version: int = Field(description="Version number.")
    changed_by: str = Field(
        description="The authenticated person who made it (from the API key), or `system` for a change the flow made."
    )
    change: str = Field(description="What it changed.")
    why: str = Field(description="Why.")
    approved: bool = Field(description="Whether it was approved.")
    approved_by: str | None = Field(description="Who approved it, or null.")
    total_cost_usd: float = Field(description="What its lines cost, US dollars.")
    created_at: datetime = Field(description="When it was made (UTC).")
