"""The forecast service's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.forecast import api, consumers, error_drift, retraining
from services.forecast.campaigns import api as campaigns_api
from services.forecast.config import ForecastSettings
from services.forecast.experiments import api as experiments_api
from shared import topics
from shared.model_registry import ModelRegistry
from shared.runtime import Runtime, ServiceSpec, create_app


def start_feedback_loop(runtime: Runtime) -> None:
    """Watch the error per market and platform, and retrain on results every N new outcomes (daemon threads)."""
    s = runtime.settings
    assert isinstance(s, ForecastSettings)
    watch = error_drift.ErrorDriftWatch(runtime.db, runtime.outbox, runtime.model("forecast"),
                                        window=s.error_drift_window, threshold=s.error_drift_mdape,
                                        min_results=s.error_drift_min_results, interval_s=s.error_drift_interval_s)  # fmt: skip
    runtime.extras["error_drift_watch"] = watch
    watch.start()
    if s.retrain_every_results == 0:
        return
    trigger = retraining.RetrainTrigger(runtime.db, runtime.outbox, ModelRegistry(s.models_dir), s.retrain_policy(),
                                        s.retrain_every_results, s.retrain_check_interval_s,
                                        s.shared_learning_orgs)  # fmt: skip
    runtime.extras["retrain_trigger"] = trigger
    trigger.start()


# What /docs and /redoc show first: who calls this service and for what.
DESCRIPTION = (
    "What content will do. Forecasts of reach, engagements, clicks and conversions with 80% "
    "intervals per creator, platform, format and market; campaign plans and sequencing; people's "
    "adjustments kept beside the model's figures and scored against results; A/B test analysis "
    "with a peeking-safe verdict. Results reported by partners feed retraining."
)

SPEC = ServiceSpec(
    name="forecast",
    title="Tandem forecast service",
    description=DESCRIPTION,
    tags={
        "forecast": "Forecasts of posts (one, batches, columns), stored forecasts and people's adjustments, "
        "posting schedules, results in, and reports on whose adjustments help.",
        "campaign plans": "A campaign's content plan: the AI's proposal, people's edits, versions, approval, "
        "insights applied, tracking while live and the retrospective.",
        "experiments": "Message A/B tests: design (sample size), observations, report and plot.",
    },
    migrations=Path(__file__).parent / "migrations",
    consumes=[
        topics.REVIEW_DECISIONS,
        topics.FORECAST_ADJUSTMENTS,
        topics.CAMPAIGN_RESULTS,
        topics.EXPERIMENT_OBSERVATIONS,
        topics.CAMPAIGN_LIFECYCLE,
        topics.CAMPAIGN_INSIGHTS,
    ],
    model_names=["forecast", "page_posts"],
    handlers=consumers.handlers,
    routers=[api.router, experiments_api.router, campaigns_api.router],
    on_start=start_feedback_loop,
)


def build(settings: ForecastSettings | None = None) -> FastAPI:
    return create_app(SPEC, settings or ForecastSettings())
