"""The review service's FastAPI app: the REST API, the reviewer web app and the overdue sweep."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.review import api, campaign_web, consumers, web
from services.review.accounts import SessionSigner
from services.review.config import ReviewSettings
from services.review.escalation import start_sweeper
from shared import topics
from shared.runtime import Runtime, ServiceSpec, create_app


def on_start(runtime: Runtime) -> None:
    settings = runtime.settings
    assert isinstance(settings, ReviewSettings)
    runtime.extras["signer"] = SessionSigner(settings.session_secret)
    runtime.extras["sweeper"] = start_sweeper(
        runtime, settings.sweep_interval_s, settings.escalation_due_hours
    )


# What /docs and /redoc show first: who calls this service and for what.
DESCRIPTION = (
    "People in the loop. Every shortlist becomes review tasks; the routing policy decides which "
    "finalists people must see (and samples the rest for audit), the team's markets and capacity "
    "decide who sees them, and each decision is recorded as the signed-in person who made it. "
    "Decisions flow back to discovery and trigger forecasts. Reviewers work in the web app under "
    "`/app`."
)

SPEC = ServiceSpec(
    name="review",
    title="Tandem review service",
    description=DESCRIPTION,
    tags={
        "review": "People's judgement: review tasks and decisions, the team and its queues, routing thresholds, "
        "lessons and trend calls, creator relationships, the campaign portfolio, and reports on where "
        "people add value."
    },
    migrations=Path(__file__).parent / "migrations",
    consumes=[
        topics.DISCOVERY_SHORTLISTS,
        topics.FORECASTS,
        topics.FRAUD_SCORES,
        topics.CAMPAIGN_RESULTS,
        topics.FRAUD_ANOMALIES,
        topics.FRAUD_ANOMALY_LABELS,
        topics.CAMPAIGN_LIFECYCLE,
    ],
    model_names=[],
    handlers=consumers.handlers,
    batch_handlers=consumers.batch_handlers,
    routers=[api.router, web.router, campaign_web.router],
    on_start=on_start,
)


def build(settings: ReviewSettings | None = None) -> FastAPI:
    app = create_app(SPEC, settings or ReviewSettings())
    web.install_page_errors(app)
    return app
