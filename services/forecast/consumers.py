"""Forecast Kafka handlers: every approved creator gets a content forecast, stored and published."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime

from sqlmodel import Session, select

from services.forecast.config import ForecastSettings
from services.forecast.forecasting import forecast
from services.forecast.models import ForecastRecord
from services.forecast.planning import content_for_decision
from shared.bus.consumer import Handler
from shared.events import Envelope, Event, ForecastPublished, ReviewDecided
from shared.runtime import Runtime


def handlers(runtime: Runtime) -> dict[str, Handler]:
    settings = runtime.settings
    assert isinstance(settings, ForecastSettings)

    def on_decided(session: Session, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, ReviewDecided)
        if event.decision != "approve":
            return
        stmt = select(ForecastRecord).where(
            ForecastRecord.org_id == envelope.org_id,
            ForecastRecord.campaign_id == event.campaign_id,
            ForecastRecord.creator_id == event.creator.creator_id,
        )
        if session.exec(stmt).first() is not None:
            return  # one forecast per creator and campaign, however many approvals (e.g. an audit) it gets
        model = runtime.model("forecast").current
        content = content_for_decision(event, settings.default_format)
        metrics = forecast(model, [content])[0]
        now = datetime.now(UTC)
        record = ForecastRecord(
            forecast_id=f"fc-{uuid.uuid4().hex[:12]}",
            org_id=envelope.org_id,
            campaign_id=event.campaign_id,
            creator_id=event.creator.creator_id,
            decision_id=event.decision_id,
            platform=content.platform,
            format=content.format,
            market=content.market,
            inputs=asdict(content),
            metrics=[m.model_dump() for m in metrics],
            model_name=model.name,
            model_version=model.version,
            created_at=now,
        )
        session.add(record)
        published = ForecastPublished(
            forecast_id=record.forecast_id,
            campaign_id=event.campaign_id,
            creator_id=event.creator.creator_id,
            platform=event.creator.platform,
            format=content.format,
            market=content.market,
            metrics=metrics,
            model_name=model.name,
            model_version=model.version,
            created_at=now,
        )
        runtime.outbox.stage(session, published, org_id=envelope.org_id)

    return {ReviewDecided.event_type: on_decided}
