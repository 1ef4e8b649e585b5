"""Discovery Kafka handlers: fraud scores, audience checks and anomalies, review decisions and relationship updates update the catalogue;
relationship outcomes of shortlisted creators become the ranking model's labels; lessons and trend calls
are kept to show on the briefs in their scope."""

from __future__ import annotations

from sqlmodel import Session

from services.discovery import audience, catalog, insights, outcomes, trust
from services.discovery.config import DiscoverySettings
from shared.bus.consumer import BatchHandler, Handler, in_one_transaction
from shared.events import (
    AnomalyDetected,
    AnomalyReviewed,
    AudienceChecked,
    EnvelopeMeta,
    Event,
    FraudScored,
    LessonRecorded,
    RelationshipUpdated,
    ReviewDecided,
    TrendCalled,
)
from shared.runtime import Runtime


def on_fraud_scored(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, FraudScored)
    catalog.apply_fraud_score(session, envelope.org_id, event)
    trust.apply_scored_check(session, envelope.org_id, event)


def on_audience_checked(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, AudienceChecked)
    audience.record_check(session, envelope.org_id, event)
    trust.apply_audience_check(session, envelope.org_id, event)


def on_anomaly(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, AnomalyDetected)
    trust.record_anomaly(session, envelope.org_id, event)


def on_anomaly_reviewed(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, AnomalyReviewed)
    trust.review_anomaly(session, envelope.org_id, event)


def on_review_decided(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, ReviewDecided)
    catalog.record_decision(session, envelope.org_id, event)


def on_relationship_updated(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, RelationshipUpdated)
    catalog.apply_relationship(session, envelope.org_id, event)


def on_lesson(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, LessonRecorded)
    insights.record_lesson(session, envelope.org_id, event)


def on_trend(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, TrendCalled)
    insights.record_trend(session, envelope.org_id, event)


def handlers(runtime: Runtime) -> dict[str, Handler]:
    settings = runtime.settings
    assert isinstance(settings, DiscoverySettings)

    def on_relationship(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        on_relationship_updated(session, event, envelope)
        assert isinstance(event, RelationshipUpdated)
        outcomes.record_outcome(session, envelope.org_id, event, settings.ranking_success_at)

    return {
        FraudScored.event_type: on_fraud_scored,
        ReviewDecided.event_type: on_review_decided,
        RelationshipUpdated.event_type: on_relationship,
        LessonRecorded.event_type: on_lesson,
        TrendCalled.event_type: on_trend,
        AnomalyDetected.event_type: on_anomaly,
        AudienceChecked.event_type: on_audience_checked,
        AnomalyReviewed.event_type: on_anomaly_reviewed,
    }


def batch_handlers(runtime: Runtime) -> dict[str, BatchHandler]:
    # A score follows every catalogue change: a poll's worth share one transaction.
    return {FraudScored.event_type: in_one_transaction(on_fraud_scored)}
