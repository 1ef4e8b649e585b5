"""Review Kafka handlers: every published shortlist becomes review tasks."""

from __future__ import annotations

from sqlmodel import Session

from services.review import tasks
from services.review.config import ReviewSettings
from services.review.routing import Policy
from shared.bus.consumer import Handler
from shared.events import Envelope, Event, ShortlistPublished
from shared.runtime import Runtime


def policy_from(settings: ReviewSettings) -> Policy:
    return Policy(
        settings.auto_approve_min_match,
        settings.auto_approve_max_fraud,
        settings.auto_reject_min_fraud,
        settings.audit_sample_rate,
    )


def handlers(runtime: Runtime) -> dict[str, Handler]:
    settings = runtime.settings
    assert isinstance(settings, ReviewSettings)
    policy = policy_from(settings)

    def on_shortlist(session: Session, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, ShortlistPublished)
        due = settings.strategic_due_hours if event.tier == "strategic" else settings.volume_due_hours
        tasks.create_tasks(session, envelope.org_id, event, policy, due, runtime.outbox)

    return {ShortlistPublished.event_type: on_shortlist}
