"""Review Kafka handlers: shortlists become tasks; forecasts, fraud scores and results feed the task page;
every campaign event (opened, plan versions, results, alerts, anomalies, close, retrospective) feeds the
campaign record and moves its stage."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from services.review import anomalies, campaigns, feedback, forecasts, policies, relationships, tasks
from services.review.config import ReviewSettings
from shared.bus.consumer import BatchHandler, Handler, in_one_transaction
from shared.events import (
    AnomalyDetected,
    AnomalyReviewed,
    CampaignCloseRequested,
    CampaignOpened,
    CampaignPlanUpdated,
    CampaignResultReported,
    CampaignRetrospectiveReady,
    EnvelopeMeta,
    Event,
    ForecastPublished,
    FraudScored,
    PostBelowForecast,
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
        campaign = campaigns.on_shortlist(session, envelope.org_id, event, runtime.outbox)
        created = tasks.create_tasks(session, envelope.org_id, event, plan, runtime.outbox)
        campaigns.on_tasks_created(session, campaign, created, runtime.outbox)

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
        campaigns.on_result(session, envelope.org_id, event, runtime.outbox)

    def on_anomaly(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, AnomalyDetected)
        anomalies.on_detected(session, envelope.org_id, event)  # routing: an open anomaly goes to people
        campaigns.on_anomaly(session, envelope.org_id, event)  # and it shows on the creator's campaigns

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
        **campaign_handlers(runtime),
    }


def campaign_handlers(runtime: Runtime) -> dict[str, Handler]:
    """The campaign record's events from the other services (and review's own close, a no-op by then);
    AnomalyDetected, which routing needs too, is handled in `handlers`."""
    outbox = runtime.outbox

    def on_opened(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, CampaignOpened)
        campaigns.on_opened(session, envelope.org_id, event, outbox)

    def on_plan(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, CampaignPlanUpdated)
        campaigns.on_plan(session, envelope.org_id, event, outbox)

    def on_below(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, PostBelowForecast)
        campaigns.on_below_forecast(session, envelope.org_id, event)

    def on_close(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, CampaignCloseRequested)
        campaigns.on_close_requested(session, envelope.org_id, event, outbox)

    def on_retro(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, CampaignRetrospectiveReady)
        campaigns.on_retrospective(session, envelope.org_id, event)

    return {
        CampaignOpened.event_type: on_opened,
        CampaignPlanUpdated.event_type: on_plan,
        PostBelowForecast.event_type: on_below,
        CampaignCloseRequested.event_type: on_close,
        CampaignRetrospectiveReady.event_type: on_retro,
    }


def batch_handlers(runtime: Runtime) -> dict[str, BatchHandler]:
    """The high-volume context events (a score per catalogue change, a forecast per shortlisted
    creator) share a poll's transaction; shortlists and results stay one transaction each."""
    single = handlers(runtime)
    return {t: in_one_transaction(single[t]) for t in (FraudScored.event_type, ForecastPublished.event_type)}
