"""Fraud Kafka handlers: score every catalog change and publish the score with its reasons (a poll's
worth of changes at a time); raise anomalies on creators' stats and on campaign results."""

from __future__ import annotations

from sqlmodel import Session

from services.fraud import anomaly_records
from services.fraud.anomalies import campaign_anomalies
from services.fraud.config import FraudSettings
from services.fraud.creator_scores import prepare_updates
from shared.bus.consumer import BatchHandler, Handler, PreparedBatch
from shared.events import CampaignResultReported, CreatorUpserted, EnvelopeMeta, Event
from shared.runtime import Runtime


def _settings(runtime: Runtime) -> FraudSettings:
    settings = runtime.settings
    assert isinstance(settings, FraudSettings)
    return settings


def batch_handlers(runtime: Runtime) -> dict[str, BatchHandler]:
    settings = _settings(runtime)

    def on_creators(items: list[tuple[Event, EnvelopeMeta]]) -> PreparedBatch:
        updates = [(e, env) for e, env in items if isinstance(e, CreatorUpserted)]
        model = runtime.model("fraud_risk").current
        return prepare_updates(
            runtime.outbox, model, updates, settings.medium_risk_from, settings.high_risk_from
        )

    return {CreatorUpserted.event_type: on_creators}


def handlers(runtime: Runtime) -> dict[str, Handler]:
    on_creators = batch_handlers(runtime)[CreatorUpserted.event_type]

    def on_creator_upserted(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        # One at a time (a retry, or a poll whose batch failed): through the outbox, like any handler.
        prepared = on_creators([(event, envelope)])
        prepared.store(session)
        runtime.outbox.stage_messages(session, prepared.messages)

    def on_campaign_result(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, CampaignResultReported)
        findings = campaign_anomalies(event)
        anomaly_records.record(session, runtime.outbox, envelope.org_id, event.creator_id, findings,
                               source="campaign", source_key=event.result_id, campaign_id=event.campaign_id)  # fmt: skip

    return {
        CreatorUpserted.event_type: on_creator_upserted,
        CampaignResultReported.event_type: on_campaign_result,
    }
