"""The forecast service's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.forecast import api, consumers
from services.forecast.config import ForecastSettings
from services.forecast.experiments import api as experiments_api
from shared import topics
from shared.runtime import ServiceSpec, create_app

SPEC = ServiceSpec(
    name="forecast",
    title="Tandem forecast service",
    migrations=Path(__file__).parent / "migrations",
    consumes=[
        topics.REVIEW_DECISIONS,
        topics.FORECAST_ADJUSTMENTS,
        topics.CAMPAIGN_RESULTS,
        topics.EXPERIMENT_OBSERVATIONS,
    ],
    model_names=["forecast", "page_posts"],
    handlers=consumers.handlers,
    routers=[api.router, experiments_api.router],
)


def build(settings: ForecastSettings | None = None) -> FastAPI:
    return create_app(SPEC, settings or ForecastSettings())
