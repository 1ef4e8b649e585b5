"""Closed vocabularies and follower tiers."""

from __future__ import annotations

import pytest

from shared.vocabulary import FORMATS, LANGUAGES, MARKETS, PLATFORMS, TIERS, follower_tier


@pytest.mark.parametrize(
    ("followers", "tier"),
    [
        (0, "nano"),
        (999, "nano"),
        (1_000, "nano"),
        (9_999, "nano"),
        (10_000, "micro"),
        (49_999, "micro"),
        (50_000, "mid"),
        (499_999, "mid"),
        (500_000, "macro"),
        (999_999, "macro"),
        (1_000_000, "mega"),
        (500_000_000, "mega"),
    ],
)
def test_follower_tier_boundaries_are_lower_inclusive(followers: int, tier: str) -> None:
    assert follower_tier(followers) == tier


def test_follower_tier_bounds_increase() -> None:
    bounds = [lower for _, lower in TIERS]
    assert bounds == sorted(bounds)
    assert len(set(bounds)) == len(bounds)


def test_vocabularies_have_no_duplicates_and_iso_market_codes() -> None:
    for values in (MARKETS, LANGUAGES, PLATFORMS, FORMATS):
        assert len(values) == len(set(values))
    assert all(len(m) == 2 and m.isupper() for m in MARKETS)
    assert "tiktok" in PLATFORMS
    assert "reel" in FORMATS
