"""Forecast Kafka handlers: approvals -> forecasts; people's adjustments; results scored and tracked; A/B
observations; campaigns opened and closed (-> retrospective); lessons and trend calls."""

from __future__ import annotations

from sqlmodel import Session, select

from services.forecast import adjustments, learning, learnt_cache, outcomes, records
from services.forecast.campaigns import handlers as campaigns
from services.forecast.campaigns import insights, retrospective, tracking
from services.forecast.config import ForecastSettings
from services.forecast.experiments import store as experiments
from services.forecast.forecasting import forecast
from services.forecast.models import Campaign, ForecastRecord
from services.forecast.planning import content_for_decision
from services.forecast.schemas import ObservationIn
from shared.bus.consumer import Handler
from shared.events import (
    CampaignCloseRequested,
    CampaignOpened,
    CampaignResultReported,
    EnvelopeMeta,
    Event,
    ExperimentObservationsRecorded,
    ForecastAdjustmentProposed,
    ForecastPublished,
    LessonRecorded,
    ReviewDecided,
    TrendCalled,
)
from shared.runtime import Runtime


def handlers(runtime: Runtime) -> dict[str, Handler]:
    settings = runtime.settings
    assert isinstance(settings, ForecastSettings)

    def on_decided(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, ReviewDecided)
        campaigns.on_decided(session, envelope.org_id, event)
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
        brief = session.get(
            Campaign, (envelope.org_id, event.campaign_id)
        )  # from campaign.opened, if it came
        content = content_for_decision(event, settings.default_format, brief.category if brief else None)
        taught = learning.learnt(session, model, envelope.org_id)  # this organisation's results only
        metrics = forecast(model, [content], [taught.offsets(event.creator.creator_id)])[0]
        record = records.new_record(envelope.org_id, event.campaign_id, event.creator.creator_id,
                                    event.decision_id, content, metrics, model)  # fmt: skip
        now = record.created_at
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

    def on_result(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        """Actuals arrived: score the forecasts (unforecast posts are ignored), and track the plan's line."""
        assert isinstance(event, CampaignResultReported)
        if outcomes.record_result(session, envelope.org_id, event) is not None:
            learnt_cache.cache_of(runtime).forget_after_commit(session, envelope.org_id)  # REST learns it now
        tracking.record(session, runtime.outbox, envelope.org_id, event)

    def on_close(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, CampaignCloseRequested)
        retrospective.close(session, runtime.outbox, envelope.org_id, event)

    return {
        ReviewDecided.event_type: on_decided,
        ForecastAdjustmentProposed.event_type: on_adjustment,
        CampaignResultReported.event_type: on_result,
        ExperimentObservationsRecorded.event_type: on_observations,
        CampaignOpened.event_type: on_opened,
        CampaignCloseRequested.event_type: on_close,
        LessonRecorded.event_type: on_insight,
        TrendCalled.event_type: on_insight,
    }


def on_adjustment(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    """A reviewer's push-back, stored beside the model's figure (unknown forecast -> dead letter with reason)."""
    assert isinstance(event, ForecastAdjustmentProposed)
    spec = adjustments.AdjustmentSpec(**event.model_dump(exclude={"market"}), market=event.market)
    adjustments.record(session, envelope.org_id, spec, source="event")


def on_opened(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, CampaignOpened)
    campaigns.on_opened(session, envelope.org_id, event)


def on_insight(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, LessonRecorded | TrendCalled)
    insights.remember(session, envelope.org_id, event)


def on_observations(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
    assert isinstance(event, ExperimentObservationsRecorded)
    exp = experiments.get(session, envelope.org_id, event.experiment_id)
    items = [ObservationIn.model_validate(o.model_dump()) for o in event.observations]
    experiments.ingest(session, exp, items, event.recorded_at)
