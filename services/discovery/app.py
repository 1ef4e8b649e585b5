"""The discovery service's FastAPI app."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi import FastAPI

from services.discovery import api, consumers, replay, retraining
from services.discovery.config import DiscoverySettings
from shared import topics
from shared.model_registry import ModelRegistry
from shared.replay import replay_router
from shared.runtime import Runtime, ServiceSpec, create_app


def start(runtime: Runtime) -> None:
    """Retrain the ranking model every N new outcomes (a daemon thread), then settle the heap."""
    s = runtime.settings
    assert isinstance(s, DiscoverySettings)
    if s.retrain_every_outcomes > 0:
        trigger = retraining.trigger(runtime.db, runtime.outbox, ModelRegistry(s.models_dir), s.retrain_policy(),
                                     s.retrain_every_outcomes, s.retrain_check_interval_s)  # fmt: skip
        runtime.extras["retrain_trigger"] = trigger
        trigger.start()
    # Long-lived start-up objects (ORM mappings, ONNX sessions) move out of the collector's way, so the
    # full collections a 1,000-creator pool triggers do not rescan them on every brief.
    gc.freeze()


# What /docs and /redoc show first: who calls this service and for what.
DESCRIPTION = (
    "Find creators for a brief. Load a catalogue of creators (`POST /v1/creators/bulk`, "
    "idempotent), search it across markets and platforms, and turn a campaign brief into a ranked "
    "shortlist in which every entry carries its reasons in words and numbers (match, audience in "
    "the target markets, engagement against the norm for its size, fraud risk). Shortlists go to "
    "the review service over Kafka; lookalikes find creators similar to ones that worked."
)

SPEC = ServiceSpec(
    name="discovery",
    title="Tandem discovery service",
    description=DESCRIPTION,
    tags={
        "discovery": "The creator catalogue (bulk import, partner webhooks), search, lookalikes, and briefs "
        "with their ranked shortlists."
    },
    migrations=Path(__file__).parent / "migrations",
    consumes=[
        topics.FRAUD_SCORES,
        topics.FRAUD_ANOMALIES,
        topics.FRAUD_ANOMALY_LABELS,
        topics.REVIEW_DECISIONS,
        topics.REVIEW_RELATIONSHIPS,
        topics.CAMPAIGN_INSIGHTS,
    ],
    model_names=["ranking"],
    handlers=consumers.handlers,
    batch_handlers=consumers.batch_handlers,
    routers=[api.router, replay_router(topics.CATALOG_CREATORS, replay.catalogue_events)],
    on_start=start,
)


def build(settings: DiscoverySettings | None = None) -> FastAPI:
    return create_app(SPEC, settings or DiscoverySettings())
