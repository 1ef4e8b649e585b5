"""The response body of GET /v1/campaigns/{id}: one campaign as people read it (services/review/campaign_view.py
builds it as plain data; this states its shape for the OpenAPI document and checks it on the way out).

Parts the review service computes forbid undeclared keys, so a key added without a description fails the
route's tests. The plan and the retrospective are stored snapshots of forecast's events: they allow extra
keys, so a field a later minor event version adds passes through instead of breaking the page.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.review.schemas import CampaignRow, LessonOut, TrendOut
from shared.events import CampaignRetrospectiveReady, MessageVariant, MetricForecast, RetrospectiveLine


class Part(BaseModel):
    """Base of the story's computed parts: no undeclared key."""

    model_config = ConfigDict(extra="forbid")


class StoryBrief(Part):
    """What the campaign looks for, and when it opened and closed."""

    category: str = Field(description="Content category.")
    platforms: list[str] = Field(description="Platforms the campaign runs on.")
    keywords: list[str] = Field(description="Keywords of the brief.")
    brand_values: list[str] = Field(description="Brand values creators are checked against.")
    opened_at: datetime | None = Field(description="When the campaign opened; null before.")
    closed_by: str = Field(description="Who closed it; empty while open.")
    closed_at: datetime | None = Field(description="When it closed; null while open.")


class TimelineEntry(Part):
    """One step of the campaign's story."""

    at: datetime = Field(description="When it happened (UTC).")
    kind: str = Field(
        description="What happened: a stage move, a plan version, an alert, the close, a lesson ..."
    )
    text: str = Field(description="The step in words.")
    who: str = Field(description="Who did it (`system` for the flow).")


class StoryPlan(BaseModel):
    """The newest plan version without its lines (the CampaignPlanUpdated event as review stored it)."""

    model_config = ConfigDict(extra="allow")

    campaign_id: str | None = Field(None, description="The campaign (absent before any plan).")
    version: int = Field(description="The plan version; 0 before any plan.")
    variants: list[MessageVariant] | None = Field(None, description="The message variants tested.")
    total_cost_usd: float | None = Field(None, description="What the plan's lines cost, US dollars.")
    budget_usd: float | None = Field(None, description="The plan's budget in US dollars, or null.")
    totals: list[MetricForecast] | None = Field(
        None, description="Forecast totals over the lines, per metric."
    )
    changed_by: str | None = Field(
        None, description="Who made this version (`system` for the AI's proposal)."
    )
    change: str | None = Field(None, description="What this version changed, in words.")
    why: str | None = Field(None, description="The reason given for the change.")
    approved: bool = Field(description="Whether a strategist approved this version.")
    updated_at: datetime | None = Field(None, description="When this version was made.")
    lines: int = Field(description="Number of lines (posts) in the plan.")


class FunnelTotals(Part):
    """Results so far, summed over every reported post."""

    reach: float = Field(description="Accounts reached.")
    engagements: float = Field(description="Likes, comments, shares and saves.")
    clicks: float = Field(description="Link clicks.")
    conversions: float = Field(description="Conversions.")


class TrackedPost(Part):
    """One planned post: its forecast band in the campaign's metric and the result so far."""

    line_id: str = Field(description="The plan line.")
    creator: str = Field(description="The creator's name (the id when no name is known).")
    platform: str = Field(description="Platform of the post.")
    format: str = Field(description="Content format of the post.")
    variant: str = Field(description="The message variant it carries.")
    scheduled_on: date = Field(description="The day it is planned for.")
    p10: float = Field(description="Pessimistic forecast (10th percentile) of the campaign's metric.")
    p50: float = Field(description="Median forecast of the campaign's metric.")
    p90: float = Field(description="Optimistic forecast (90th percentile) of the campaign's metric.")
    cost_usd: float = Field(description="Planned cost, US dollars.")
    actual: float | None = Field(description="The result in the campaign's metric; null before any result.")


class SpendPoint(Part):
    """Cumulative spend on one day."""

    at: date = Field(description="The day a result was posted.")
    spend_usd: float = Field(description="Spend up to and including that result, US dollars.")


class FunnelStage(Part):
    """One stage of the funnel."""

    stage: str = Field(description="reach, engagements, clicks or conversions.")
    value: float = Field(description="The total so far.")


class VariantResult(Part):
    """One message variant's results against its forecasts."""

    variant: str = Field(description="The message variant (`unknown` when a result names none).")
    posts: int = Field(description="Results reported for it.")
    actual: float = Field(description="Sum of its results in the campaign's metric.")
    forecast: float = Field(description="Sum of the median forecasts of those posts.")
    actual_vs_forecast: float | None = Field(description="actual / forecast; null without a forecast.")
    per_post: float = Field(description="actual / posts.")


class StoryTracking(Part):
    """The campaign against its plan: totals, unit costs, posts, spend over time, funnel, messages."""

    metric: str = Field(description="The campaign's main metric (from its objective).")
    results: int = Field(description="Results reported.")
    totals: FunnelTotals = Field(description="Results so far per funnel metric.")
    spend_usd: float = Field(description="Spend so far, US dollars.")
    budget_usd: float | None = Field(description="The budget in US dollars, or null.")
    plan_cost_usd: float = Field(description="What the plan's lines cost, US dollars.")
    forecast_p50: float = Field(description="Median forecast of the whole plan in the campaign's metric.")
    cost_per_1k_reach: float | None = Field(description="Spend per 1,000 reached; null before any reach.")
    cost_per_engagement: float | None = Field(description="Spend per engagement; null before any.")
    cost_per_conversion: float | None = Field(description="Spend per conversion; null before any.")
    posts: list[TrackedPost] = Field(description="Every planned post, by day.")
    spend_over_time: list[SpendPoint] = Field(description="Cumulative spend, one point per result.")
    funnel: list[FunnelStage] = Field(description="Reach, engagements, clicks and conversions so far.")
    variants: list[VariantResult] = Field(description="The message variants compared.")


class StoryAlert(Part):
    """Something wrong on the live campaign."""

    alert_id: str = Field(description="Id of the alert.")
    campaign_id: str = Field(description="The campaign.")
    kind: str = Field(description="below_forecast or anomaly.")
    creator_id: str = Field(description="The creator concerned.")
    line_id: str | None = Field(description="The plan line concerned, or null.")
    text: str = Field(description="The alert in words.")
    severity: float = Field(description="How serious (0 = informational).")
    detected_at: datetime = Field(description="When it was detected (UTC).")
    open: bool = Field(description="Whether it still needs attention.")


class StoryPushback(Part):
    """A person's adjustment of a creator's forecast, and whether the results proved it right."""

    author: str = Field(description="Who adjusted the forecast.")
    metric: str = Field(description="The metric adjusted.")
    multiplier: float | None = Field(description="Adjusted p50 / the model's p50, or null.")
    reason: str = Field(description="Why, in the person's words.")
    right: bool | None = Field(
        description="Whether the push-back pointed the way the results went; null without results."
    )


class DecisionBehind(Part):
    """The decision on one creator of the plan."""

    creator_id: str = Field(description="The creator.")
    creator: str = Field(description="The creator's name (the id when no name is known).")
    decision: str = Field(description="The final decision, or `open`.")
    decided_by: str = Field(description="Who decided (`policy:...` when automated); empty while open.")
    automated: bool = Field(description="Whether the routing policy decided without a person.")
    route_reason: str = Field(description="Why the task went the way it did.")
    actual_vs_forecast: float | None = Field(
        description="The creator's results / median forecasts in the campaign's metric; null without results."
    )
    pushbacks: list[StoryPushback] = Field(description="People's adjustments of the creator's forecast.")


class StoryRetrospectiveLine(RetrospectiveLine):
    """A plan line as it turned out, with the decision on its creator."""

    decision: str | None = Field(None, description="The final decision on the creator, or `open`.")
    pushbacks: list[StoryPushback] | None = Field(
        None, description="People's adjustments of the creator's forecast, judged against the results."
    )


class StoryRetrospective(CampaignRetrospectiveReady):
    """The closed campaign's retrospective (as forecast published it), each line with the decision behind it."""

    model_config = ConfigDict(extra="allow")

    lines: list[StoryRetrospectiveLine] = Field(  # type: ignore[assignment]
        description="Every plan line as it turned out, with the decision on its creator."
    )


class CampaignStory(Part):
    """One campaign as people read it: from brief to retrospective, with the people and insights involved."""

    campaign: CampaignRow = Field(description="Where the campaign stands (as in the portfolio).")
    brief: StoryBrief = Field(description="What the campaign looks for.")
    timeline: list[TimelineEntry] = Field(description="Every step, oldest first.")
    plan: StoryPlan = Field(description="The newest plan version, without its lines.")
    tracking: StoryTracking = Field(description="Results against the plan so far.")
    alerts: list[StoryAlert] = Field(description="Alerts on the campaign, oldest first.")
    retrospective: StoryRetrospective | None = Field(description="The retrospective once closed, else null.")
    decisions: list[DecisionBehind] = Field(description="The decision behind each creator of the plan.")
    lessons: list[LessonOut] = Field(
        description="Lessons written on this campaign and past ones in its scope."
    )
    trends: list[TrendOut] = Field(description="Live trend calls for its markets and platforms.")
