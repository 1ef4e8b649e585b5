"""The plausibility rules, stated once, hold at every entry: models on REST and webhooks, events off the bus."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shared.events import AccountStats, CampaignResultReported, RelationshipUpdated
from shared.plausibility import problems


def _result(**over: Any) -> dict[str, Any]:
    return {"result_id": "r-1", "campaign_id": "c-1", "creator_id": "cr-1", "platform": "instagram",
            "format": "reel", "market": "US", "reach": 1000, "engagements": 50, "clicks": 10, "conversions": 1,
            "posted_at": datetime(2026, 10, 1, tzinfo=UTC), **over}  # fmt: skip


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"reach": float("nan")}, "reach"),
        ({"clicks": float("inf")}, "clicks"),
        ({"spend_usd": -1.0}, "spend_usd"),
        ({"conversions": 11}, "conversions"),
        ({"engagements": 1001}, "engagements"),
        ({"reach": 0, "engagements": 0}, "clicks"),
    ],
)
def test_result_event_with_impossible_figures_fails_naming_the_field(
    over: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        CampaignResultReported.model_validate(_result(**over))
    assert field in [e["loc"][-1] for e in exc.value.errors()]


def test_plausible_result_is_accepted_and_figures_at_the_bounds_are_fine() -> None:
    CampaignResultReported.model_validate(_result())
    CampaignResultReported.model_validate(_result(reach=0, engagements=0, clicks=0, conversions=0))
    CampaignResultReported.model_validate(_result(engagements=1000, conversions=10))


def test_series_items_are_named_by_position() -> None:
    assert problems({"hourly_clicks": [1.0, -3.0, float("nan")]}) == [
        ("hourly_clicks.1", "cannot be negative"),
        ("hourly_clicks.2", "must be a finite number (not NaN or infinity)"),
    ]


def test_relationship_outcome_cannot_be_negative_or_infinite() -> None:
    base = {
        "creator_id": "cr-1",
        "campaign_id": "c-1",
        "status": "completed",
        "updated_at": datetime.now(UTC),
    }
    for bad in (-0.5, float("inf")):
        with pytest.raises(ValidationError, match="outcome_vs_forecast"):
            RelationshipUpdated.model_validate({**base, "outcome_vs_forecast": bad})


def test_event_parts_refuse_infinity_that_json_would_publish_as_null() -> None:
    with pytest.raises(ValidationError, match="avg_likes"):
        AccountStats(
            platform="instagram", handle="a", followers=1, engagement_rate=0.1, avg_likes=float("inf")
        )
