"""Error drift: per market and platform on /metrics, announced once per model version past the threshold."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import generate_latest
from sqlmodel import select

from services.forecast import outcomes, records
from services.forecast.error_drift import ErrorDriftWatch
from services.forecast.features import PlannedContent
from services.forecast.forecasting import forecast
from shared.bus.outbox import OutboxMessage
from shared.events import CampaignResultReported
from shared.runtime import Runtime

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _scored(runtime: Runtime, market: str, n: int, actual_factor: float) -> None:
    """n forecasts in a market, whose results come in at actual_factor x the model's median."""
    model = runtime.model("forecast").current
    content = PlannedContent(followers=50_000, engagement_rate=0.03, per_view=False, platform="instagram",
                             format="reel", market=market, market_share=0.7, hour=19, weekday=2, paid=False)  # fmt: skip
    metrics = forecast(model, [content])[0]
    with runtime.db.transaction() as session:
        for i in range(n):
            rec = records.new_record(
                "acme", f"cmp-{market}-{i}", "cr-1", None, content, metrics, model, at=NOW
            )
            session.add(rec)
            event = CampaignResultReported(result_id=f"r-{market}-{i}", campaign_id=rec.campaign_id or "",
                                           creator_id="cr-1", platform="instagram", format="reel", market=market,
                                           reach=metrics[0].p50 * actual_factor,
                                           engagements=metrics[1].p50 * actual_factor, posted_at=NOW)  # fmt: skip
            outcomes.record_result(session, "acme", event)


def test_segment_past_threshold_is_announced_once_and_exported(runtime: Runtime) -> None:
    _scored(runtime, "RU", 40, actual_factor=0.4)  # RU reels land far below the forecast: 150% error
    _scored(runtime, "US", 40, actual_factor=1.1)  # US is fine: 9% error
    watch = ErrorDriftWatch(runtime.db, runtime.outbox, runtime.model("forecast"), window=1000, threshold=0.6,
                            min_results=30, interval_s=60)  # fmt: skip
    events = watch.check_once()
    assert [(e.market, e.platform, e.metric) for e in events] == [("RU", "instagram", "engagements"),
                                                                   ("RU", "instagram", "reach")]  # fmt: skip
    assert abs(events[0].mdape - 1.5) < 0.01 and events[0].results == 40
    assert watch.check_once() == []  # announced once per model version
    with runtime.db.transaction() as session:
        staged = [m for m in session.exec(select(OutboxMessage)) if m.topic == "models.drift.v1"]
    assert len(staged) == 2
    text = generate_latest().decode()
    assert 'tandem_forecast_error_mdape{market="US",metric="reach",platform="instagram"} 0.0909' in text


def test_small_segment_does_not_alert(runtime: Runtime) -> None:
    _scored(runtime, "KZ", 5, actual_factor=0.2)
    watch = ErrorDriftWatch(runtime.db, runtime.outbox, runtime.model("forecast"), window=1000, threshold=0.6,
                            min_results=30, interval_s=60)  # fmt: skip
    assert watch.check_once() == []
