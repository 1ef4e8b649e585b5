"""Fraud features: the same numbers in training and serving, in the order the shipped model expects."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from services.fraud.features import (
    FEATURES,
    account_features,
    engagement_vs_norm,
    feature_matrix,
    primary_account,
)
from shared.events import AccountStats
from shared.model_registry import ModelRegistry

REPO = Path(__file__).resolve().parents[2]


def _account(**overrides: object) -> AccountStats:
    fields: dict[str, object] = {
        "platform": "instagram", "handle": "known", "followers": 10_000, "following": 500, "posts": 100,
        "engagement_rate": 0.02, "avg_likes": 190, "avg_comments": 10, "max_monthly_growth": 0.1,
        "median_monthly_growth": 0.02,
    }  # fmt: skip
    fields.update(overrides)
    return AccountStats.model_validate(fields)


def _named(account: AccountStats) -> dict[str, float]:
    return dict(zip(FEATURES, account_features(account), strict=True))


def test_account_features_for_known_account() -> None:
    norm = 0.022 * (10_000 / 5_000) ** -0.2  # the Instagram norm at 10k followers
    f = _named(_account())
    assert f["log10_followers"] == pytest.approx(4.0)
    assert f["following_per_follower"] == pytest.approx(0.05)
    assert f["log_er_vs_norm"] == pytest.approx(math.log(0.02 / norm))
    assert f["comment_share"] == pytest.approx(10 / 200)
    assert f["log_growth_spike"] == pytest.approx(math.log(0.1 / 0.02))
    assert f["max_monthly_growth"] == pytest.approx(0.1)
    assert f["log10_posts"] == pytest.approx(2.0)
    assert f["is_short_video"] == 0.0


def test_account_features_comment_share_is_nan_without_interactions() -> None:
    f = _named(_account(avg_likes=0, avg_comments=0))
    assert math.isnan(f["comment_share"])
    assert not any(math.isnan(v) for k, v in f.items() if k != "comment_share")


def test_account_features_marks_tiktok_as_short_video() -> None:
    assert _named(_account(platform="tiktok", engagement_basis="per_view"))["is_short_video"] == 1.0
    assert _named(_account(platform="youtube"))["is_short_video"] == 0.0


def test_account_features_caps_following_ratio_at_50() -> None:
    assert _named(_account(followers=10, following=100_000))["following_per_follower"] == 50.0


def test_account_features_floors_median_growth_for_quiet_accounts() -> None:
    f = _named(_account(max_monthly_growth=0.01, median_monthly_growth=0.0))
    assert f["log_growth_spike"] == pytest.approx(math.log(0.01 / 0.005))


def test_account_features_survive_zero_followers_and_engagement() -> None:
    f = _named(_account(followers=0, following=0, posts=0, engagement_rate=0.0))
    assert f["log10_followers"] == 0.0
    assert f["log10_posts"] == 0.0
    assert math.isfinite(f["log_er_vs_norm"])
    assert f["log_er_vs_norm"] < -5


def test_engagement_vs_norm_falls_with_size() -> None:
    _, small = engagement_vs_norm(_account(followers=5_000))
    _, large = engagement_vs_norm(_account(followers=5_000_000))
    assert small == pytest.approx(0.022)
    assert large < small / 3


def test_primary_account_is_the_largest() -> None:
    small, large = (
        _account(handle="s", followers=900),
        _account(handle="l", platform="youtube", followers=90_000),
    )
    assert primary_account([small, large]) is large


def test_feature_matrix_shape_and_dtype() -> None:
    x = feature_matrix([_account(), _account(followers=100)])
    assert x.shape == (2, len(FEATURES))
    assert x.dtype.name == "float32"
    assert feature_matrix([]).shape == (0, len(FEATURES))


def test_features_match_shipped_model_card() -> None:
    card = ModelRegistry(REPO / "models").versions("fraud_risk")[-1]
    assert card.features == FEATURES
