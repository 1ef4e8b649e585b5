"""The review service's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.review import api, consumers
from services.review.config import ReviewSettings
from shared import topics
from shared.runtime import ServiceSpec, create_app

SPEC = ServiceSpec(
    name="review",
    title="Tandem review service",
    migrations=Path(__file__).parent / "migrations",
    consumes=[topics.DISCOVERY_SHORTLISTS],
    model_names=[],
    handlers=consumers.handlers,
    routers=[api.router],
)


def build(settings: ReviewSettings | None = None) -> FastAPI:
    return create_app(SPEC, settings or ReviewSettings())
