"""The fraud service's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.fraud import api, consumers
from services.fraud.config import FraudSettings
from shared import topics
from shared.runtime import ServiceSpec, create_app

SPEC = ServiceSpec(
    name="fraud",
    title="Tandem fraud service",
    migrations=Path(__file__).parent / "migrations",
    consumes=[topics.CATALOG_CREATORS, topics.CAMPAIGN_RESULTS],
    model_names=["fraud_risk", "fake_account"],
    handlers=consumers.handlers,
    batch_handlers=consumers.batch_handlers,
    routers=[api.router],
)


def build(settings: FraudSettings | None = None) -> FastAPI:
    return create_app(SPEC, settings or FraudSettings())
