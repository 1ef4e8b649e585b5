"""Response bodies of the feedback reports: people's judgements, trend calls and lessons against results.

The reports are built as plain data (services/review/feedback.py, insight_scores.py); these models state
their shape for the OpenAPI document and check it on the way out. `extra="forbid"` so a key the code adds
without describing it fails the route's tests instead of vanishing from the answer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Report(BaseModel):
    """Base of the report rows: no undeclared key."""

    model_config = ConfigDict(extra="forbid")


class TrendTrust(Report):
    """One author's trend calls against the results that followed them."""

    author: str = Field(description="Who called the trends.")
    calls: int = Field(description="Trend calls made.")
    scored: int = Field(description="Calls judged so far (hit or miss).")
    hits: int = Field(description="Calls the results bore out.")
    hit_rate: float | None = Field(description="hits / scored (0-1); null before any call is judged.")
    brier: float | None = Field(
        description="Brier score of the stated confidence (0 best, 1 worst); null before any call is judged."
    )


class LessonPayoff(Report):
    """A lesson's rule tried on the later results in its scope: would it have made forecasts more accurate?"""

    lesson_id: str = Field(description="The lesson.")
    author: str = Field(description="Who recorded it.")
    scope: str = Field(
        description="Where it applies: market, category, creator, format, message, timing or platform."
    )
    scope_value: str = Field(description="The value of that scope it applies to (e.g. the market's code).")
    rule: str = Field(description="The rule in words (`<metric> x <multiplier>` when none was written).")
    results: int = Field(description="Later results in its scope with a forecast.")
    raw_mdape: float | None = Field(
        description="Median absolute percentage error of the raw forecasts; null with too few results."
    )
    with_rule_mdape: float | None = Field(
        description="The same error had the rule's multiplier been applied; null with too few results."
    )
    paid_off: bool | None = Field(
        description="Whether the rule lowered the error; null with too few results."
    )


class DecisionStats(Report):
    """Approvals and rejections of one group against the results."""

    decisions: int = Field(description="Decisions on creators whose posts reported results.")
    approvals_judged: int = Field(description="Approvals whose post reported reach and had a forecast.")
    approval_hit_rate: float | None = Field(
        description="Share of judged approvals whose post met its median reach forecast (0-1); null without any."
    )
    rejections_judged: int = Field(
        description="Rejections whose post (approved by someone else) reported results."
    )
    rejection_right_rate: float | None = Field(
        description="Share of judged rejections whose post missed its median reach forecast (0-1); null without any."
    )


class WhoMarket(Report):
    """Whose decisions in which market a report row groups."""

    who: str = Field(description="The reviewer, or `policy:...` for decisions the routing policy made.")
    market: str = Field(description="The market (ISO 3166-1 alpha-2).")


# Pydantic orders fields from the last base to the first: each row's keys come before its figures.
class PersonDecisions(DecisionStats, WhoMarket):
    """One person's (or the policy's) decisions in one market."""


class AdjustmentStats(Report):
    """People's forecast adjustments against the raw model, on the posts that reported results."""

    n: int = Field(description="Adjustments with results.")
    raw_mdape: float | None = Field(description="Median absolute percentage error of the raw model's p50.")
    adjusted_mdape: float | None = Field(description="Median absolute percentage error of the adjusted p50.")
    gain: float | None = Field(description="raw_mdape - adjusted_mdape: positive means people helped.")
    raw_coverage80: float | None = Field(
        description="Share of results inside the raw p10-p90 interval (0-1)."
    )
    adjusted_coverage80: float | None = Field(
        description="Share of results inside the adjusted p10-p90 interval (0-1)."
    )


class AuthorMarketMetric(Report):
    """Which adjustments a report row groups."""

    author: str = Field(description="Who adjusted the forecasts.")
    market: str | None = Field(description="The market (ISO 3166-1 alpha-2), or null when unknown.")
    metric: str = Field(description="The metric adjusted.")


class PersonAdjustments(AdjustmentStats, AuthorMarketMetric):
    """One author's adjustments of one metric in one market."""


class CalibrationBand(Report):
    """Approvals' hit rate in one band of match scores, for the policy or for people."""

    match_from: float = Field(description="Lower end of the match-score band (inclusive).")
    match_to: float = Field(description="Upper end of the band (exclusive, except 1).")
    who: Literal["policy", "people"] = Field(description="Whose approvals: the routing policy's or people's.")
    n: int = Field(description="Judged approvals in the band.")
    hit_rate: float | None = Field(
        description="Share of them that met the median reach forecast; null without any."
    )


class PeopleReport(Report):
    """How people's judgements compare with outcomes: decisions, adjustments, calibration and knowledge."""

    definition: str = Field(description="What a hit and a gain mean in this report.")
    decisions: list[PersonDecisions] = Field(description="Per person (or policy) and market, sorted.")
    adjustments: list[PersonAdjustments] = Field(description="Per author, market and metric, sorted.")
    calibration: list[CalibrationBand] = Field(
        description="Per match-score band (fifths), policy then people."
    )
    trend_calls: list[TrendTrust] = Field(
        description="Whose trend calls to trust (as GET /v1/feedback/trends)."
    )
    lessons: list[LessonPayoff] = Field(
        description="Which lesson rules paid off (as GET /v1/feedback/lessons)."
    )


class Segment(Report):
    """People against the policy in one segment of creators."""

    dimension: Literal["tier", "market", "size"] = Field(description="How the creators are grouped.")
    value: str = Field(description="The segment (a tier, a market code or a size band).")
    people: DecisionStats = Field(description="People's decisions in the segment.")
    policy: DecisionStats = Field(description="The routing policy's decisions in the segment.")
    verdict: Literal["people add value", "automate", "about even", "not enough results"] = Field(
        description="people add value: people's approval hit rate beats the policy's by the margin; automate: "
        "the policy does at least as well."
    )


class AdjustmentMarket(Report):
    """Which market a report row groups."""

    market: str | None = Field(description="The market (ISO 3166-1 alpha-2), or null when unknown.")


class MarketAdjustments(AdjustmentStats, AdjustmentMarket):
    """Adjustments in one market, all authors and metrics together."""


class RoutingSuggestions(Report):
    """Inputs for the routing policy."""

    auto_approve_min_match: float | None = Field(
        description="The lowest match score from which the policy's approvals do as well as people's; null if none."
    )
    send_to_people: list[str] = Field(description="Segments (`dimension=value`) where people add value.")
    automate: list[str] = Field(description="Segments (`dimension=value`) the policy handles as well.")
    markets_where_adjustments_help: list[str] = Field(
        description="Markets where people's adjustments lower the error."
    )


class ValueReport(Report):
    """Where people add value, and thresholds the routing policy can use."""

    segments: list[Segment] = Field(
        description="Per tier, market and creator size: people against the policy."
    )
    adjustments_by_market: list[MarketAdjustments] = Field(description="People's adjustments per market.")
    suggestions: RoutingSuggestions = Field(description="What to change in the routing policy.")


class SweepOut(BaseModel):
    """What the overdue-task sweep did."""

    escalated: int = Field(description="Overdue open tasks escalated to a manager.")
    assigned: int = Field(description="Reviewers assigned to open tasks that had fewer than they need.")
