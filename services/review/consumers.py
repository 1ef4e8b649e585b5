"""Review Kafka handlers: shortlists become tasks; forecasts, fraud scores and results feed the task page."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from services.review import anomalies, feedback, forecasts, policies, relationships, tasks
from services.review.config import ReviewSettings
from shared.bus.consumer import BatchHandler, Handler, in_one_transaction
from shared.events import (
    AnomalyDetected,
    AnomalyReviewed,
    CampaignResultReported,
    EnvelopeMeta,
    Event,
    ForecastPublished,
    FraudScored,
    ShortlistPublished,
)
from shared.runtime import Runtime


def plan_for(session: Session, settings: ReviewSettings, org_id: str, sl: ShortlistPublished) -> tasks.Plan:
    """The stored settings of the campaign (or its brand), over the config defaults."""
    values = policies.effective(session, settings, org_id, sl.campaign_id, sl.brand)
    due = {
        "strategic": values["strategic_due_hours"],
        "volume": values["volume_due_hours"],
        "audit": settings.audit_due_hours,
    }
    max_age = timedelta(days=settings.fraud_max_age_days)
    return tasks.Plan(policies.policy_of(values), due, settings.strategic_reviewers, max_age)


def handlers(runtime: Runtime) -> dict[str, Handler]:
    settings = runtime.settings
    assert isinstance(settings, ReviewSettings)

    def on_shortlist(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, ShortlistPublished)
        plan = plan_for(session, settings, envelope.org_id, event)
        tasks.create_tasks(session, envelope.org_id, event, plan, runtime.outbox)

    def on_forecast(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, ForecastPublished)
        forecasts.remember(session, envelope.org_id, event)

    def on_fraud(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, FraudScored)
        forecasts.remember_fraud(session, envelope.org_id, event)

    def on_result(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, CampaignResultReported)
        relationships.on_result(session, envelope.org_id, event, runtime.outbox)
        feedback.remember(session, envelope.org_id, event)

    def on_anomaly(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, AnomalyDetected)
        anomalies.on_detected(session, envelope.org_id, event)

    def on_verdict(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, AnomalyReviewed)
        anomalies.on_reviewed(session, envelope.org_id, event)

    return {
        AnomalyDetected.event_type: on_anomaly,
        AnomalyReviewed.event_type: on_verdict,
        ShortlistPublished.event_type: on_shortlist,
        ForecastPublished.event_type: on_forecast,
        CampaignResultReported.event_type: on_result,
        FraudScored.event_type: on_fraud,
    }


def batch_handlers(runtime: Runtime) -> dict[str, BatchHandler]:
    """The high-volume context events (a score per catalogue change, a forecast per shortlisted
    creator) share a poll's transaction; shortlists and results stay one transaction each."""
    single = handlers(runtime)
    return {t: in_one_transaction(single[t]) for t in (FraudScored.event_type, ForecastPublished.event_type)}
