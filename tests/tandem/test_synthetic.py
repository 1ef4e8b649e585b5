"""The synthetic world: reproducible, shaped like the sources it cites, and valid for discovery to ingest."""

from __future__ import annotations

import numpy as np
import pytest

from services.discovery.schemas import CreatorIn
from shared.vocabulary import CATEGORIES, MARKETS, SHORT_VIDEO_PLATFORMS
from tandem.synthetic import (
    FRAUD_SHARE,
    World,
    campaign_success_probability,
    generate_world,
    past_campaigns,
    past_posts,
    random_brief,
)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(2000, seed=123)


def test_generate_world_is_deterministic_for_a_seed() -> None:
    first, second = generate_world(200, seed=42), generate_world(200, seed=42)
    assert first.payloads() == second.payloads()
    assert [(c.is_fraud, c.fraud_kind, c.quality) for c in first.creators] == [
        (c.is_fraud, c.fraud_kind, c.quality) for c in second.creators
    ]


def test_generate_world_differs_between_seeds() -> None:
    assert generate_world(50, seed=1).payloads() != generate_world(50, seed=2).payloads()


def test_generate_world_prefix_is_stable_across_sizes() -> None:
    assert generate_world(30, seed=9).payloads() == generate_world(60, seed=9).payloads()[:30]


def test_follower_tail_share_above_10k(world: World) -> None:
    followers = np.array([c.payload["accounts"][0]["followers"] for c in world.creators])
    share = float(np.mean(followers > 10_000))
    assert 0.15 <= share <= 0.45
    assert followers.min() >= 500
    assert float(np.mean(followers > 1_000_000)) < 0.06


def test_fraud_share_is_near_twelve_percent(world: World) -> None:
    share = float(np.mean([c.is_fraud for c in world.creators]))
    assert abs(share - 0.12) < 0.03
    assert FRAUD_SHARE == 0.12  # the rate the docstring cites


def test_fraud_kind_matches_fraud_flag(world: World) -> None:
    kinds = {(c.is_fraud, c.fraud_kind) for c in world.creators}
    assert kinds == {(False, "none"), (True, "bought_followers"), (True, "engagement_pod")}


def test_audience_shares_sum_at_most_1_01(world: World) -> None:
    for c in world.creators:
        shares = [m["audience_share"] for m in c.payload["audience"]]
        assert sum(shares) <= 1.01, c.creator_id
        assert all(0 < s <= 1 for s in shares)
        markets = [m["market"] for m in c.payload["audience"]]
        assert len(markets) == len(set(markets))
        assert set(markets) <= set(MARKETS)
        assert shares == sorted(shares, reverse=True)


def test_payloads_validate_as_discovery_creators(world: World) -> None:
    for payload in world.payloads()[:500]:
        creator = CreatorIn.model_validate(payload)
        assert set(creator.categories) <= set(CATEGORIES)


def test_creator_ids_are_unique(world: World) -> None:
    ids = [c.creator_id for c in world.creators]
    assert len(ids) == len(set(ids))


def test_short_video_accounts_measure_per_view(world: World) -> None:
    for c in world.creators[:500]:
        for a in c.payload["accounts"]:
            expected = "per_view" if a["platform"] in SHORT_VIDEO_PLATFORMS else "per_follower"
            assert a["engagement_basis"] == expected


def test_bought_followers_have_lower_engagement_and_bigger_spikes(world: World) -> None:
    def stat(kind: str, key: str) -> float:
        return float(
            np.median([c.payload["accounts"][0][key] for c in world.creators if c.fraud_kind == kind])
        )

    assert stat("bought_followers", "max_monthly_growth") > 2 * stat("none", "max_monthly_growth")


def test_campaign_success_probability_is_a_probability_and_punishes_fraud(world: World) -> None:
    brief = random_brief(np.random.default_rng(0), 0)
    probs: dict[bool, list[float]] = {True: [], False: []}
    for c in world.creators[:800]:
        p = campaign_success_probability(c, brief)
        assert 0 <= p <= 1
        probs[c.is_fraud].append(p)
    assert np.mean(probs[True]) < np.mean(probs[False])


def test_past_campaigns_and_posts_have_requested_sizes(world: World) -> None:
    rows = past_campaigns(world, n_campaigns=3, per_campaign=4, seed=1)
    assert len(rows) == 12
    assert len({r["brief"]["name"] for r in rows}) == 3
    posts = past_posts(world, n_posts=50, seed=1)
    assert len(posts) == 50
    assert all(p["reach"] >= 1 and p["engagements"] >= 0 for p in posts)
