"""Forecast handlers: approvals -> forecasts, adjustments from review, results scored against both figures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from kafka.consumer.fetcher import ConsumerRecord
from sqlmodel import select

from services.forecast.consumers import handlers
from services.forecast.models import ForecastAdjustment, ForecastOutcome, ForecastRecord
from shared import topics
from shared.bus.consumer import EventDispatcher
from shared.errors import NotFound
from shared.events import (
    CampaignResultReported,
    Event,
    ExperimentObservationsRecorded,
    ForecastAdjustmentProposed,
    ReviewDecided,
    wrap,
)
from shared.runtime import Runtime
from tests.busutil import SendsOneByOne
from tests.forecast.campaignutil import ORG, apply, decided, opened

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _apply(runtime: Runtime, event: Event) -> None:
    envelope = wrap(event, producer="test", correlation_id="c-1", org_id="acme")
    with runtime.db.transaction() as session:
        handlers(runtime)[event.event_type](session, event, envelope)


def _approve(runtime: Runtime) -> ForecastRecord:
    creator = {"creator_id": "cr-1", "name": "Ann", "home_market": "RU", "platform": "instagram",
               "followers": 80_000, "engagement_rate": 0.03, "engagement_basis": "per_follower",
               "audience": [{"market": "RU", "audience_share": 0.6, "engagement_rate": 0.03}]}  # fmt: skip
    _apply(runtime, ReviewDecided.model_validate({
        "decision_id": "d-1", "task_id": "t-1", "campaign_id": "cmp-1", "tier": "volume", "decision": "approve",
        "automated": True, "decided_by": "policy:auto", "route_reason": "r", "match_score": 0.9,
        "target_markets": ["RU"], "creator": creator, "decided_at": NOW}))  # fmt: skip
    with runtime.db.transaction() as session:
        record = session.exec(select(ForecastRecord)).one()
        session.expunge(record)
        return record


def _proposal(forecast_id: str, **kw: Any) -> ForecastAdjustmentProposed:
    body = {"adjustment_id": "adj-1", "forecast_id": forecast_id, "metric": "reach", "multiplier": 0.7,
            "reason": "RU audience skews older; reels land less", "market": "RU", "author": "olga",
            "proposed_at": NOW, **kw}  # fmt: skip
    return ForecastAdjustmentProposed.model_validate(body)


def test_adjustment_event_keeps_model_and_adjusted_figures(runtime: Runtime) -> None:
    record = _approve(runtime)
    _apply(runtime, _proposal(record.forecast_id))
    _apply(runtime, _proposal(record.forecast_id))  # a replay is idempotent by adjustment id
    reach = next(m for m in record.metrics if m["metric"] == "reach")
    with runtime.db.transaction() as session:
        [adj] = session.exec(select(ForecastAdjustment)).all()
        assert adj.model_p50 == reach["p50"]
        assert adj.adjusted_p50 == pytest.approx(reach["p50"] * 0.7, abs=0.1)
        assert (adj.author, adj.market, adj.source) == ("olga", "RU", "event")


def test_adjustment_event_for_unknown_forecast_fails_for_the_dead_letter_queue(runtime: Runtime) -> None:
    with pytest.raises(NotFound, match="no forecast"):
        _apply(runtime, _proposal("fc-missing"))


def test_result_scores_model_and_adjusted_figures(runtime: Runtime) -> None:
    record = _approve(runtime)
    _apply(runtime, _proposal(record.forecast_id, multiplier=None, absolute_value=1000.0))
    _apply(runtime, CampaignResultReported(result_id="r-1", campaign_id="cmp-1", creator_id="cr-1",
                                           platform="instagram", format="post", market="RU", reach=1000.0,
                                           engagements=50.0, posted_at=NOW))  # fmt: skip
    with runtime.db.transaction() as session:
        [outcome] = session.exec(select(ForecastOutcome)).all()
        reach = outcome.errors["reach"]
        assert reach["adjusted"]["ape"] == 0.0  # the person said 1,000 and it was 1,000
        assert reach["model"]["ape"] is not None and reach["model"]["ape"] > 0
        assert "adjusted" not in outcome.errors["engagements"]


def test_observation_event_for_unknown_experiment_fails(runtime: Runtime) -> None:
    event = ExperimentObservationsRecorded(experiment_id="exp-x", recorded_at=NOW,
                                           observations=[{"unit_id": "u1", "variant": "a", "value": 1.0}])  # type: ignore[list-item]  # fmt: skip
    with pytest.raises(NotFound):
        _apply(runtime, event)


class _Acked:
    def get(self, timeout: float | None = None) -> None:
        return None


class FakePublisher(SendsOneByOne):
    """Records dead letters instead of sending them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> Any:
        self.sent.append((topic, value))
        return _Acked()

    def flush(self, timeout: float | None = None) -> None:
        return None


def test_dispatcher_dead_letters_adjustment_for_unknown_forecast_with_reason(runtime: Runtime) -> None:
    publisher = FakePublisher()
    dispatcher = EventDispatcher(runtime.db, handlers(runtime), publisher, "forecast", retries=1, backoff_s=0)
    value = wrap(_proposal("fc-missing"), producer="review", correlation_id="c", org_id="acme").to_bytes()
    record = ConsumerRecord(
        topics.FORECAST_ADJUSTMENTS,
        0,
        None,
        0,
        0,
        0,
        b"k",
        value,
        [("producer", b"review")],
        None,
        1,
        len(value),
        0,
    )
    assert dispatcher.apply(record) == "dead_letter"
    [(topic, body)] = publisher.sent
    assert topic == topics.dlq(topics.FORECAST_ADJUSTMENTS)
    assert "no forecast fc-missing" in orjson.loads(body)["detail"]


@pytest.mark.parametrize(("figures", "field"), [({"clicks": 3.0, "conversions": 5.0}, "conversions"),
                                               ({"reach": 0.0, "engagements": 0.0, "clicks": 4.0}, "clicks")])  # fmt: skip
def test_dispatcher_dead_letters_a_result_with_impossible_figures_naming_the_field(
    runtime: Runtime, figures: dict[str, float], field: str
) -> None:
    """The same rules as REST and webhooks (shared.plausibility) hold for a result put straight on the topic."""
    publisher = FakePublisher()
    dispatcher = EventDispatcher(runtime.db, handlers(runtime), publisher, "forecast", retries=1, backoff_s=0)
    event = CampaignResultReported(result_id="r-9", campaign_id="cmp-1", creator_id="cr-1", platform="instagram",
                                   format="post", market="RU", reach=1000.0, engagements=50.0, posted_at=NOW)  # fmt: skip
    envelope = orjson.loads(wrap(event, producer="forecast", correlation_id="c", org_id="acme").to_bytes())
    envelope["payload"].update(figures)  # as a foreign producer would send it, past our own model
    value = orjson.dumps(envelope)
    record = ConsumerRecord(topics.CAMPAIGN_RESULTS, 0, None, 0, 0, 0, b"cmp-1", value,
                            [("producer", b"forecast")], None, 1, len(value), 0)  # fmt: skip
    assert dispatcher.apply(record) == "dead_letter"
    [(topic, body)] = publisher.sent
    assert topic == topics.dlq(topics.CAMPAIGN_RESULTS)
    assert field in orjson.loads(body)["detail"]
    with runtime.db.transaction() as session:
        assert session.exec(select(ForecastOutcome)).all() == []


def test_approval_forecast_is_higher_for_content_on_the_creators_niche(runtime: Runtime) -> None:
    """A beauty brief: the same figures forecast more for a beauty creator than for a car creator, and a
    creator whose categories are unknown sits between them."""
    apply(runtime, opened())
    for i, categories in ((0, ["beauty", "fashion"]), (5, ["auto"]), (10, None)):  # same engagement rate
        apply(runtime, decided(i, "instagram", followers=50_000, categories=categories))
    with runtime.db.transaction() as session:
        rows = {
            r.creator_id: r for r in session.exec(select(ForecastRecord).where(ForecastRecord.org_id == ORG))
        }
    assert [(rows[c].inputs["category"], rows[c].inputs["on_niche"]) for c in ("cr-0", "cr-5", "cr-10")] == [
        ("beauty", True), ("beauty", False), ("beauty", None)]  # fmt: skip
    for metric in ("reach", "engagements"):
        on, off, unknown = (next(m["p50"] for m in rows[c].metrics if m["metric"] == metric)
                            for c in ("cr-0", "cr-5", "cr-10"))  # fmt: skip
        assert on > unknown > off, metric
