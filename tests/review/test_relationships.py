"""Relationship history and forecasts on the task: results against forecast, forecast push-back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.review import forecasts, relationships, tasks
from services.review.routing import Policy
from services.review.schemas import AdjustmentIn, RelationshipIn
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.errors import Invalid
from shared.events import (
    CampaignResultReported,
    ForecastAdjustmentProposed,
    ForecastPublished,
    MetricForecast,
    RelationshipUpdated,
)
from tests.review import helpers

NOW = datetime.now(UTC)


def _forecast(creator_id: str = "cr-1", reach: float = 10_000) -> ForecastPublished:
    metric = MetricForecast(
        metric="reach", p10=reach / 2, p50=reach, p90=reach * 2, definition="unique viewers"
    )
    return ForecastPublished(forecast_id="fc-1", campaign_id="cmp-1", creator_id=creator_id, platform="instagram",
                             format="reel", market="US", metrics=[metric], model_name="forecast",
                             model_version="3", created_at=NOW)  # fmt: skip


def test_result_records_outcome_against_the_forecast(db: Database, outbox: Outbox) -> None:
    result = CampaignResultReported(result_id="r-1", campaign_id="cmp-1", creator_id="cr-1", platform="instagram",
                                    format="reel", market="US", reach=12_500, engagements=300, posted_at=NOW)  # fmt: skip
    with db.transaction() as session:
        forecasts.remember(session, helpers.ORG, _forecast())
        forecasts.remember(session, helpers.ORG, _forecast())  # a re-delivery is stored once
    with db.transaction() as session:
        relationships.on_result(session, helpers.ORG, result, outbox)
    with db.transaction() as session:
        (line,) = relationships.history(session, helpers.ORG, "cr-1")
        assert relationships.known_creators(session, helpers.ORG, ["cr-1", "cr-2"]) == {"cr-1"}
    assert (line.status, line.outcome_vs_forecast) == ("completed", 1.25)
    (event,) = [e for e in helpers.events(db) if isinstance(e, RelationshipUpdated)]
    assert (event.creator_id, event.outcome_vs_forecast, event.status) == ("cr-1", 1.25, "completed")


def test_history_is_newest_first_with_incidents(db: Database, outbox: Outbox) -> None:
    with db.transaction() as session:
        relationships.record(
            session, helpers.ORG, "cr-1", RelationshipIn(status="active", author="ann"), outbox
        )
        relationships.record(session, helpers.ORG, "cr-1", RelationshipIn(status="incident", incidents=["late post"],
                             notes="posted 3 days late", author="ann"), outbox)  # fmt: skip
    with db.transaction() as session:
        lines = relationships.history(session, helpers.ORG, "cr-1")
    assert [(h.status, h.incidents) for h in lines] == [("incident", ["late post"]), ("active", [])]


def test_forecast_push_back_is_published_for_the_forecast_service(db: Database, outbox: Outbox) -> None:
    (task,) = helpers.create(db, outbox, helpers.shortlist([helpers.entry(1, "cr-1", 0.5, 0.1)]),
                             Policy(0.85, 0.25, 0.7, 0.0))  # fmt: skip
    body = AdjustmentIn(reviewer="ann", multiplier=0.7, reason="US summer slowdown in beauty")
    with db.transaction() as session:
        with pytest.raises(Invalid, match="no forecast"):
            forecasts.propose(session, task, body, outbox)
        forecasts.remember(session, helpers.ORG, _forecast())
    with db.transaction() as session:
        out = forecasts.propose(session, tasks.task_row(session, helpers.ORG, task.task_id), body, outbox)
    assert (out.forecast_id, out.metric, out.multiplier, out.market) == ("fc-1", "reach", 0.7, "US")
    (event,) = [e for e in helpers.events(db) if isinstance(e, ForecastAdjustmentProposed)]
    assert (event.forecast_id, event.author, event.reason) == ("fc-1", "ann", "US summer slowdown in beauty")
