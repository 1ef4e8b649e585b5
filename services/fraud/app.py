"""The fraud service's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.fraud import api, consumers, replay, retraining
from services.fraud.config import FraudSettings
from shared import topics
from shared.model_registry import ModelRegistry
from shared.replay import replay_router
from shared.runtime import Runtime, ServiceSpec, create_app


def start_retraining(runtime: Runtime) -> None:
    """Retrain the fraud risk model every N new anomaly verdicts (a daemon thread)."""
    s = runtime.settings
    assert isinstance(s, FraudSettings)
    if s.retrain_every_labels == 0:
        return
    trigger = retraining.trigger(runtime.db, runtime.outbox, ModelRegistry(s.models_dir), s.retrain_policy(),
                                 s.retrain_label_weight, s.retrain_every_labels, s.retrain_check_interval_s)  # fmt: skip
    runtime.extras["retrain_trigger"] = trigger
    trigger.start()


# What /docs and /redoc show first: who calls this service and for what.
DESCRIPTION = (
    "How far to trust a creator. A risk score 0-1 with a level and reasons for every creator in "
    "the catalogue (scored as creators arrive), an audience-quality report from a sample of "
    "followers (fake share with a 95% interval, corrected for the classifier's own error rates), "
    "and anomalies (growth spikes, engagement pods, click fraud) that a person confirms or "
    "dismisses. Every number names the model and version that produced it."
)

SPEC = ServiceSpec(
    name="fraud",
    title="Tandem fraud service",
    description=DESCRIPTION,
    tags={
        "fraud": "Fraud risk of accounts (one, batches, columns), fake-follower share from a follower sample, "
        "and anomalies in creators' histories for people to confirm or dismiss."
    },
    migrations=Path(__file__).parent / "migrations",
    consumes=[topics.CATALOG_CREATORS, topics.CAMPAIGN_RESULTS],
    model_names=["fraud_risk", "fake_account"],
    handlers=consumers.handlers,
    batch_handlers=consumers.batch_handlers,
    routers=[api.router, replay_router(topics.FRAUD_SCORES, replay.score_events)],
    fast_routes={"/v1/fraud/score": api.score_one_fast},
    on_start=start_retraining,
)


def build(settings: FraudSettings | None = None) -> FastAPI:
    return create_app(SPEC, settings or FraudSettings())
