"""The discovery service's FastAPI app."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi import FastAPI

from services.discovery import api, consumers
from services.discovery.config import DiscoverySettings
from shared import topics
from shared.runtime import ServiceSpec, create_app

SPEC = ServiceSpec(
    name="discovery",
    title="Tandem discovery service",
    migrations=Path(__file__).parent / "migrations",
    consumes=[topics.FRAUD_SCORES, topics.REVIEW_DECISIONS, topics.REVIEW_RELATIONSHIPS],
    model_names=["ranking"],
    handlers=consumers.handlers,
    routers=[api.router],
    # Long-lived start-up objects (ORM mappings, ONNX sessions) move out of the collector's way, so the
    # full collections a 1,000-creator pool triggers do not rescan them on every brief.
    on_start=lambda _: gc.freeze(),
)


def build(settings: DiscoverySettings | None = None) -> FastAPI:
    return create_app(SPEC, settings or DiscoverySettings())
