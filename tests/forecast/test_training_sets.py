"""Point-in-time training rows: each result meets the creator's figures as they were when the forecast was made."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.forecast import results, training_sets
from services.forecast.consumers import handlers
from services.forecast.features import FEATURES
from services.forecast.schemas import ResultIn
from shared.events import CampaignResultReported, Event, ReviewDecided, wrap
from shared.runtime import Runtime

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _apply(runtime: Runtime, event: Event) -> None:
    envelope = wrap(event, producer="test", correlation_id="c-1", org_id="acme")
    with runtime.db.transaction() as session:
        handlers(runtime)[event.event_type](session, event, envelope)


def _approve(runtime: Runtime, campaign: str, followers: int, er: float, share: float) -> None:
    creator = {"creator_id": "cr-1", "name": "Ann", "home_market": "RU", "platform": "instagram",
               "followers": followers, "engagement_rate": er, "engagement_basis": "per_follower",
               "audience": [{"market": "RU", "audience_share": share, "engagement_rate": er}]}  # fmt: skip
    _apply(runtime, ReviewDecided.model_validate({
        "decision_id": f"d-{campaign}", "task_id": "t-1", "campaign_id": campaign, "tier": "volume",
        "decision": "approve", "automated": True, "decided_by": "policy:auto", "route_reason": "r",
        "match_score": 0.9, "target_markets": ["RU"], "creator": creator, "decided_at": NOW}))  # fmt: skip


def _report(runtime: Runtime, campaign: str, **over: Any) -> None:
    item = ResultIn.model_validate({"result_id": f"res-{campaign}", "campaign_id": campaign, "creator_id": "cr-1",
                                    "platform": "instagram", "format": "reel", "market": "RU", "reach": 5000,
                                    "engagements": 200, "posted_at": "2026-12-05T20:00:00+00:00", **over})  # fmt: skip
    with runtime.db.transaction() as session:
        results.ingest(session, runtime.outbox, "acme", [item], source="rest")
    _apply(runtime, CampaignResultReported.model_validate(item.model_dump(include=results.EVENT_FIELDS)))


def _rows(runtime: Runtime) -> dict[str, training_sets.TrainingRow]:
    with runtime.db.transaction() as session:
        return {r.result_id: r for r in training_sets.rows(session)}


def test_later_catalogue_change_does_not_leak_into_training_row(runtime: Runtime) -> None:
    _approve(runtime, "cmp-1", followers=80_000, er=0.03, share=0.6)
    # The creator then went viral: the next approval carries the catalogue's new figures.
    _approve(runtime, "cmp-2", followers=2_000_000, er=0.09, share=0.9)
    _report(runtime, "cmp-1")  # cmp-1's results arrive after the catalogue changed
    _report(runtime, "cmp-2", result_id="res-cmp-2")
    rows = _rows(runtime)
    early, late = rows["res-cmp-1"].content, rows["res-cmp-2"].content
    assert (early.followers, early.engagement_rate, early.market_share) == (80_000, 0.03, 0.6)
    assert (late.followers, late.engagement_rate, late.market_share) == (2_000_000, 0.09, 0.9)
    # What the post itself fixed before its outcome comes from the result: format and time of posting.
    assert (early.format, early.hour, early.weekday) == ("reel", 20, 5)
    assert rows["res-cmp-1"].actuals == {"reach": 5000.0, "engagements": 200.0}


def test_result_in_another_market_is_left_out(runtime: Runtime) -> None:
    _approve(runtime, "cmp-1", followers=80_000, er=0.03, share=0.6)
    _report(runtime, "cmp-1", market="KZ")  # the audience share known at decision time was RU's
    assert _rows(runtime) == {}


def test_training_arrays_are_log_targets_in_feature_order(runtime: Runtime) -> None:
    _approve(runtime, "cmp-1", followers=80_000, er=0.03, share=0.6)
    _report(runtime, "cmp-1")
    x, ys = training_sets.arrays(list(_rows(runtime).values()))
    assert x.shape == (1, len(FEATURES))
    assert abs(float(ys["reach"][0]) - 8.5174) < 1e-3  # log1p(5000)
