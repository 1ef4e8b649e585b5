"""Response bodies of the computed answers: bulk columns, page-post forecasts, feedback reports, campaign
tracking and retrospective, experiment reports.

The routes build these answers as plain data; the models state their shape for the OpenAPI document and
check it on the way out. `extra="forbid"` so a key the code adds without describing it fails the route's
tests instead of vanishing from the answer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.forecast.schemas import LearningOut
from shared.events import CampaignRetrospectiveReady


class Answer(BaseModel):
    """Base of the computed answers: no undeclared key."""

    model_config = ConfigDict(extra="forbid")


class QuantileColumns(Answer):
    """One metric's forecast range as columns, in row order."""

    p10: list[float] = Field(description="Pessimistic forecast (10th percentile), one value per row.")
    p50: list[float] = Field(description="Median forecast, one value per row.")
    p90: list[float] = Field(description="Optimistic forecast (90th percentile), one value per row.")


class ColumnMetrics(Answer):
    """Every forecast metric as p10/p50/p90 columns."""

    reach: QuantileColumns = Field(description="Unique accounts reached.")
    engagements: QuantileColumns = Field(description="Likes, comments, shares and saves.")
    clicks: QuantileColumns = Field(
        description="Link clicks (engagements x the format's clicks per engagement)."
    )
    conversions: QuantileColumns = Field(description="Conversions (clicks x conversions per click).")
    engagement_rate: QuantileColumns = Field(
        description="Engagements per follower (per view for short-video platforms)."
    )


class ForecastColumnsOut(Answer):
    """The columnar forecast: one list per metric and quantile, in the request's row order."""

    rows: int = Field(description="Number of rows forecast (the length of every column).")
    metrics: ColumnMetrics = Field(description="Per metric, its p10, p50 and p90 columns.")
    model_name: str = Field(description="Name of the forecasting model.")
    model_version: str = Field(description="Version of that model; quote it when you question a forecast.")
    learning: ColumnsLearning | None = Field(
        description="What your organisation's own results changed against the pooled model; null: the "
        "pooled model as is (no scored results of yours yet)."
    )


class ColumnsLearning(LearningOut):
    """The organisation's part of the learning (as in /v1/forecasts/predict; `creator_offset` stays empty)
    and the baselines of the named creators who have one."""

    creator_offsets: dict[str, dict[str, float]] = Field(
        description="Per named creator with a baseline of their own: their offset per learnt metric, on top."
    )
    variant_offsets: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Per named message variant ('campaign_id/variant_id') with results of its own: its offset "
        "per learnt metric, on top.",
    )


class PagePostRange(Answer):
    """One lifetime metric of a page post: its range and point forecast."""

    p10: float = Field(description="Pessimistic forecast (10th percentile).")
    point: float = Field(description="The model's point forecast.")
    p50: float = Field(description="Median forecast.")
    p90: float = Field(description="Optimistic forecast (90th percentile).")


def _uci(name: str, what: str) -> Any:
    """A field named as the UCI column it forecasts (the keys the answer has always used)."""
    return Field(alias=name, description=f"{what} (UCI column `{name}`).")


class PagePostForecast(Answer):
    """Every lifetime metric of one brand-page post, keyed by the UCI 'Facebook metrics' column names."""

    model_config = ConfigDict(populate_by_name=True)

    reach: PagePostRange = _uci("Lifetime Post Total Reach", "People who saw the post")
    impressions: PagePostRange = _uci("Lifetime Post Total Impressions", "Times the post was shown")
    engaged_users: PagePostRange = _uci("Lifetime Engaged Users", "People who clicked anywhere in the post")
    consumers: PagePostRange = _uci("Lifetime Post Consumers", "People who clicked the post")
    consumptions: PagePostRange = _uci("Lifetime Post Consumptions", "Clicks on the post")
    fan_impressions: PagePostRange = _uci(
        "Lifetime Post Impressions by people who have liked your Page",
        "Times the post was shown to the page's fans",
    )
    fan_reach: PagePostRange = _uci(
        "Lifetime Post reach by people who like your Page", "Fans of the page who saw the post"
    )
    fans_engaged: PagePostRange = _uci(
        "Lifetime People who have liked your Page and engaged with your post", "Fans of the page who engaged"
    )


class PagePostsOut(Answer):
    """Lifetime forecasts of brand-page posts, in the request's order."""

    forecasts: list[PagePostForecast] = Field(description="One forecast per requested post, same order.")
    model_name: str = Field(description="Name of the page_posts model.")
    model_version: str = Field(description="Version of that model; quote it when you question a forecast.")


class ErrorSummary(Answer):
    """Error of one set of forecasts against the results."""

    mdape: float | None = Field(
        description="Median absolute percentage error of the p50; null without results."
    )
    coverage80: float = Field(description="Share of results inside the p10-p90 interval (0-1).")


class AdjustedGroup(Answer):
    """Adjusted figures against the raw model's, on the forecasts of one group that got results."""

    n: int = Field(description="Adjusted forecasts with results in the group.")
    model: ErrorSummary = Field(description="The raw model's error.")
    adjusted: ErrorSummary = Field(description="The adjusted figures' error.")
    adjusted_closer_share: float = Field(description="Share of results the adjusted p50 was closer to (0-1).")
    mdape_gain: float | None = Field(
        description="Model MdAPE - adjusted MdAPE: positive means people helped; null when either is unknown."
    )


class AuthorMarketMetric(Answer):
    """Which adjustments a report row groups."""

    author: str = Field(description="Who adjusted the forecasts.")
    market: str = Field(description="The forecasts' market (ISO 3166-1 alpha-2).")
    metric: str = Field(description="The metric adjusted: reach, engagements, clicks or conversions.")


# Pydantic orders fields from the last base to the first: the row's keys come before its figures.
class AdjustmentReportRow(AdjustedGroup, AuthorMarketMetric):
    """One author's adjustments of one metric in one market, against the results."""


class AppliedInsight(Answer):
    """Which applied insight a report row groups."""

    insight_id: str = Field(description="The lesson or trend call applied.")
    metric: str = Field(description="The metric adjusted: reach, engagements, clicks or conversions.")
    applied_by: list[str] = Field(description="Who applied it, sorted.")


class InsightReportRow(AdjustedGroup, AppliedInsight):
    """One lesson or trend call applied to forecasts of one metric, against the results."""


class TrackedMetric(Answer):
    """One metric of a live campaign: results so far against the plan."""

    actual: float = Field(description="Sum of the reported results.")
    forecast_p50_of_posted: float = Field(
        description="Sum of the median forecasts of the posts reported so far."
    )
    plan_p50: float = Field(description="Median forecast of the whole plan.")
    plan_p10: float = Field(description="Pessimistic (10th percentile) forecast of the whole plan.")
    plan_p90: float = Field(description="Optimistic (90th percentile) forecast of the whole plan.")


class PostedMetric(Answer):
    """One metric of a posted line: the result against its forecast interval."""

    actual: float = Field(description="The reported result.")
    p10: float = Field(description="The line's pessimistic forecast (10th percentile).")
    p50: float = Field(description="The line's median forecast.")
    p90: float = Field(description="The line's optimistic forecast (90th percentile).")
    status: Literal["below p10", "within p10-p90", "above p90"] = Field(
        description="Where the result fell against the interval."
    )


class TrackedLine(Answer):
    """One plan line, with its result once posted."""

    line_id: str = Field(description="The plan line.")
    creator_id: str = Field(description="The creator who posts it.")
    platform: str = Field(description="Platform of the post.")
    format: str = Field(description="Content format of the post.")
    variant_id: str | None = Field(description="The message variant it carries, or null.")
    scheduled_on: date = Field(description="The day it is planned for.")
    planned_cost_usd: float = Field(description="What the plan budgeted for it, US dollars.")
    posted: bool = Field(description="Whether its result has been reported.")
    spend_usd: float | None = Field(
        None, description="Only once posted: the reported spend (the planned cost when none was reported)."
    )
    metrics: dict[str, PostedMetric] | None = Field(
        None,
        description="Only once posted: per metric (reach, engagements, clicks, conversions), result vs forecast.",
    )


class TrackedAlert(Answer):
    """A post that came in below its pessimistic forecast."""

    line_id: str = Field(description="The plan line.")
    metric: str = Field(description="The metric below its p10.")
    actual: float = Field(description="The reported result.")
    p10: float = Field(description="The line's pessimistic forecast it fell below.")
    p50: float = Field(description="The line's median forecast.")
    detected_at: datetime = Field(description="When the result showed it (UTC).")


class ArmProgress(Answer):
    """One message variant's results so far."""

    variant_id: str = Field(description="The message variant.")
    posts: int = Field(description="Posts of this variant with results.")
    creators: int = Field(description="Creators who posted it.")
    lift_vs_forecast: float | None = Field(
        description="Mean log ratio of result to forecast (0 = as forecast); null before any post."
    )


class MessageVerdict(Answer):
    """The message variants compared on the plan's metric, results against forecast."""

    metric: str = Field(description="The metric compared (the plan's).")
    leader: str | None = Field(description="The variant most likely best so far, or null.")
    winner: str | None = Field(
        description="The variant declared best once the evidence is strong enough, or null."
    )
    prob_best: dict[str, float] = Field(description="Per variant id, the probability it is the best (0-1).")
    summary: str = Field(description="The comparison in words.")
    diff_log: float | None = Field(description="Leader minus runner-up, in mean log lift; null with one arm.")
    diff_low_log: float | None = Field(description="Lower end of that difference's 95% interval.")
    diff_high_log: float | None = Field(description="Upper end of that difference's 95% interval.")
    arms: list[ArmProgress] = Field(description="Every variant's results so far.")


class TrackingOut(Answer):
    """A live campaign against its plan: spend, outcomes, unit costs, alerts, messages and every line."""

    campaign_id: str = Field(description="The campaign.")
    plan_version: int = Field(description="The plan version tracked (the current one).")
    approved: bool = Field(description="Whether that version was approved.")
    posts_planned: int = Field(description="Lines in the plan.")
    posts_reported: int = Field(description="Lines with results.")
    spend_usd: float = Field(description="Spend so far, US dollars.")
    planned_cost_usd: float = Field(description="What the plan's lines cost, US dollars.")
    budget_usd: float | None = Field(description="The campaign budget in US dollars, or null.")
    metrics: dict[str, TrackedMetric] = Field(
        description="Per metric (reach, engagements, clicks, conversions): results against the plan."
    )
    cost_per_1k_reach_usd: float | None = Field(description="Spend per 1,000 reached; null before any reach.")
    cost_per_engagement_usd: float | None = Field(description="Spend per engagement; null before any.")
    cost_per_click_usd: float | None = Field(description="Spend per click; null before any.")
    cost_per_conversion_usd: float | None = Field(description="Spend per conversion; null before any.")
    alerts: list[TrackedAlert] = Field(description="Posts below their p10, oldest first.")
    messages: MessageVerdict = Field(description="The message variants compared so far.")
    lines: list[TrackedLine] = Field(description="Every plan line, in plan order.")


class ObservationsAccepted(Answer):
    """How many observations an experiment took in."""

    accepted: int = Field(
        description="Observations in the request, all recorded (a repeated unit updates its outcome)."
    )


class ArmResult(Answer):
    """One arm of an experiment so far."""

    n: int = Field(description="Outcomes recorded for the arm.")
    mean: float = Field(description="Mean outcome (the conversion rate for a binary metric).")
    ci_low: float = Field(description="Lower end of the mean's 95% confidence interval.")
    ci_high: float = Field(description="Upper end of the mean's 95% confidence interval.")
    prob_best: float = Field(description="Posterior probability that this arm is the best (0-1).")
    exposures: int = Field(description="Exposures recorded for the arm.")
    progress: float = Field(description="n / the planned sample size per arm (1 = complete).")


class Comparison(Answer):
    """One variant against the control."""

    test: Literal["two_proportion_z", "welch_t"] = Field(
        description="The fixed-horizon test: two-proportion z for rates, Welch's t for means."
    )
    diff: float = Field(description="Variant mean - control mean.")
    diff_ci_low: float = Field(description="Lower end of the difference's 95% confidence interval.")
    diff_ci_high: float = Field(description="Upper end of the difference's 95% confidence interval.")
    p_value: float = Field(
        description="The fixed-horizon test's two-sided p-value (valid at the planned end only)."
    )
    significant: bool = Field(description="p_value below alpha / (arms - 1) (Bonferroni).")
    sequential_p: float = Field(description="mSPRT always-valid p-value: safe to read at any look.")
    sequential_significant: bool = Field(description="sequential_p below alpha / (arms - 1).")
    sequential_first_crossing_n: int | None = Field(
        description="Outcomes per arm at which the sequential test first crossed, or null."
    )
    mde_80: float = Field(description="The smallest difference this sample finds with 80% power.")
    power_at_mde: float | None = Field(description="Power to find the experiment's mde; null without an mde.")


class ExperimentVerdict(Answer):
    """The experiment's verdict."""

    decision: Literal["no_difference_detected", "variant_better", "control_better"] = Field(
        description="The fixed-horizon decision."
    )
    summary: str = Field(description="The decision in words.")
    most_likely_best: str = Field(description="The arm with the highest probability of being best.")
    prob_best: float = Field(description="That arm's probability of being best (0-1).")
    alpha: float = Field(description="The experiment's significance level (before the Bonferroni split).")
    comparisons: dict[str, Comparison] = Field(
        description="Per variant arm, its comparison with the control."
    )
    sequential_decision: Literal["stop", "continue"] = Field(
        description="stop once any variant is significant on the always-valid test."
    )
    sequential_note: str = Field(description="How to read the sequential test.")


class ExperimentReportOut(Answer):
    """An A/B test's result: every arm, the verdict and what to do."""

    metric_type: Literal["binary", "continuous"] = Field(description="Whether outcomes are 0/1 or amounts.")
    control: str = Field(description="The control arm.")
    arms: dict[str, ArmResult] = Field(description="Per arm name, its results so far.")
    verdict: ExperimentVerdict = Field(description="The tests' verdict.")
    recommendation: str = Field(description="One sentence to act on.")
    sample_size_per_arm: int = Field(description="The planned outcomes per arm.")


class RetrospectiveOut(CampaignRetrospectiveReady):
    """A closed campaign's forecast against actual, decomposed by dimension, with who closed it."""

    closed_by: str = Field(description="The person who closed the campaign.")
