"""What to forecast for an approved creator: platform, format and the biggest target market."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.forecast.planning import about, content_for_decision, content_from_request
from services.forecast.schemas import ForecastIn
from shared.events import ReviewDecided

US_RU_KZ = [
    {"market": "RU", "audience_share": 0.5, "engagement_rate": 0.02},
    {"market": "KZ", "audience_share": 0.3, "engagement_rate": 0.02},
    {"market": "US", "audience_share": 0.15, "engagement_rate": 0.02},
]


def _decided(target_markets: list[str], audience: list[dict[str, Any]], platform: str = "instagram",
             basis: str = "per_follower") -> ReviewDecided:  # fmt: skip
    creator = {"creator_id": "cr-1", "name": "Ann", "home_market": "TR", "platform": platform, "followers": 80_000,
               "engagement_rate": 0.03, "engagement_basis": basis, "audience": audience}  # fmt: skip
    return ReviewDecided.model_validate({
        "decision_id": "d-1", "task_id": "t-1", "campaign_id": "cmp-1", "tier": "volume", "decision": "approve",
        "automated": True, "decided_by": "policy:auto", "route_reason": "r", "match_score": 0.9,
        "target_markets": target_markets, "creator": creator, "decided_at": datetime.now(UTC),
    })  # fmt: skip


def test_content_for_decision_picks_biggest_target_market() -> None:
    content = content_for_decision(_decided(["US", "KZ"], US_RU_KZ), "post")
    assert (content.market, content.market_share) == ("KZ", 0.3)  # RU is bigger but not a target


def test_content_for_decision_without_target_audience_uses_biggest_market() -> None:
    content = content_for_decision(_decided(["BR"], US_RU_KZ), "post")
    assert (content.market, content.market_share) == ("RU", 0.5)


def test_content_for_decision_without_audience_uses_home_market() -> None:
    content = content_for_decision(_decided(["US"], []), "post")
    assert (content.market, content.market_share) == ("TR", 0.0)


def test_content_for_decision_copies_creator_and_fixes_time() -> None:
    content = content_for_decision(_decided(["US"], US_RU_KZ), "story")
    assert (content.followers, content.engagement_rate, content.platform) == (80_000, 0.03, "instagram")
    assert (content.format, content.per_view) == ("story", False)
    assert (content.hour, content.weekday, content.paid) == (19, 2, False)


@pytest.mark.parametrize(
    ("platform", "default", "expected"),
    [
        ("tiktok", "post", "reel"),
        ("tiktok", "story", "story"),
        ("instagram", "post", "post"),
        ("youtube", "post", "post"),
    ],
)
def test_content_for_decision_maps_posts_to_reels_on_tiktok(
    platform: str, default: str, expected: str
) -> None:
    assert content_for_decision(_decided(["US"], US_RU_KZ, platform=platform), default).format == expected


def test_content_for_decision_per_view_follows_basis() -> None:
    assert content_for_decision(_decided(["US"], US_RU_KZ, "tiktok", "per_view"), "post").per_view is True


def test_content_from_request_sets_per_view_for_short_video() -> None:
    body = ForecastIn(followers=1_000, engagement_rate=0.05, platform="tiktok", format="reel", market="RU",
                      market_share=0.7)  # fmt: skip
    content = content_from_request(body)
    assert content.per_view is True
    assert (content.market, content.market_share, content.hour, content.weekday) == ("RU", 0.7, 19, 2)
    assert content_from_request(body.model_copy(update={"platform": "youtube"})).per_view is False


@pytest.mark.parametrize(
    ("category", "own", "expected"),
    [
        ("beauty", ["beauty", "food"], ("beauty", True)),
        ("Beauty ", ["fashion"], ("beauty", False)),
        ("beauty", [], ("beauty", None)),  # the creator's categories are unknown
        ("knitting", ["knitting"], (None, True)),  # outside the model's vocabulary, still the niche
        (None, ["beauty"], (None, None)),
    ],
)
def test_about_names_the_category_and_whether_it_is_the_creators_niche(
    category: str | None, own: list[str], expected: tuple[str | None, bool | None]
) -> None:
    assert about(category, own) == expected


def test_content_for_decision_carries_the_briefs_category_and_niche() -> None:
    event = _decided(["US"], US_RU_KZ)
    creator = event.creator.model_copy(update={"categories": ["fitness"]})
    content = content_for_decision(event.model_copy(update={"creator": creator}), "post", "fitness")
    assert (content.category, content.on_niche, content.message_kind) == ("fitness", True, None)
    assert (content_for_decision(event, "post").category, content_for_decision(event, "post").on_niche) == (
        None,
        None,
    )
