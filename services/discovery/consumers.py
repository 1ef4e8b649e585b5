"""Discovery Kafka handlers: fraud scores, review decisions and relationship updates update the catalogue."""

from __future__ import annotations

from sqlmodel import Session

from services.discovery import catalog
from shared.bus.consumer import Handler
from shared.events import Envelope, Event, FraudScored, RelationshipUpdated, ReviewDecided
from shared.runtime import Runtime


def on_fraud_scored(session: Session, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, FraudScored)
    catalog.apply_fraud_score(session, envelope.org_id, event)


def on_review_decided(session: Session, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, ReviewDecided)
    catalog.record_decision(session, envelope.org_id, event)


def on_relationship_updated(session: Session, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, RelationshipUpdated)
    catalog.apply_relationship(session, envelope.org_id, event)


def handlers(_: Runtime) -> dict[str, Handler]:
    return {
        FraudScored.event_type: on_fraud_scored,
        ReviewDecided.event_type: on_review_decided,
        RelationshipUpdated.event_type: on_relationship_updated,
    }
