"""Fraud Kafka handlers: score every catalog change and publish the score with its reasons."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from services.fraud.config import FraudSettings
from services.fraud.features import primary_account
from services.fraud.models import FraudScore
from services.fraud.scoring import assess
from shared.bus.consumer import Handler
from shared.events import CreatorUpserted, Envelope, Event, FraudScored
from shared.runtime import Runtime


def handlers(runtime: Runtime) -> dict[str, Handler]:
    settings = runtime.settings
    assert isinstance(settings, FraudSettings)

    def on_creator_upserted(session: Session, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, CreatorUpserted)
        model = runtime.model("fraud_risk").current
        account = primary_account(event.accounts)
        a = assess(model, [account], settings.medium_risk_from, settings.high_risk_from)[0]
        now = datetime.now(UTC)
        row = session.get(FraudScore, (envelope.org_id, event.creator_id)) or FraudScore(
            org_id=envelope.org_id,
            creator_id=event.creator_id,
            risk=0,
            level="unknown",
            model_name="",
            model_version="",
            scored_at=now,
        )
        row.risk, row.level, row.scored_at = a.risk, a.level, now
        row.reasons = [r.model_dump() for r in a.reasons]
        row.model_name, row.model_version = a.model_name, a.model_version
        row.source_updated_at = event.updated_at
        session.add(row)
        scored = FraudScored(
            creator_id=event.creator_id,
            risk=a.risk,
            level=a.level,
            reasons=a.reasons,
            model_name=a.model_name,
            model_version=a.model_version,
            scored_at=now,
            source_updated_at=event.updated_at,
        )
        runtime.outbox.stage(session, scored, org_id=envelope.org_id)

    return {CreatorUpserted.event_type: on_creator_upserted}
