"""The discovery service's FastAPI app."""

from __future__ import annotations

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
    consumes=[topics.FRAUD_SCORES, topics.REVIEW_DECISIONS],
    model_names=["ranking"],
    handlers=consumers.handlers,
    routers=[api.router],
)


def build(settings: DiscoverySettings | None = None) -> FastAPI:
    return create_app(SPEC, settings or DiscoverySettings())
