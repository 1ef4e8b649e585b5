"""Creator-level fraud features, computed the same way in training and in serving."""

from __future__ import annotations

import math

import numpy as np

from shared.events import AccountStats
from shared.norms import engagement_norm
from shared.vocabulary import SHORT_VIDEO_PLATFORMS

FEATURES: list[str] = [
    "log10_followers",
    "following_per_follower",
    "log_er_vs_norm",
    "comment_share",
    "log_growth_spike",
    "max_monthly_growth",
    "log10_posts",
    "is_short_video",
]
# What a typical honest account shows: medians of the honest rows of the shipped training set
# (models/fraud_risk/1/training_set.npz), the same for feed and short-video platforms to 2 digits.
# Engagement's reference is the tier/platform median itself (log ratio 0). Explanations re-score a row
# with a group set to these; a missing following or post count is scored as these too (never as 0).
TYPICAL: dict[str, float] = {
    "following_per_follower": 0.115,
    "log_er_vs_norm": 0.0,
    "comment_share": 0.041,
    "log_growth_spike": 0.79,
    "max_monthly_growth": 0.044,
    "log10_posts": 3.18,
}


def missing_inputs(account: AccountStats) -> list[str]:
    """Inputs the account did not give (imports often lack them): scored as typical, said in a reason."""
    return [name for name in ("following", "posts") if getattr(account, name) is None]


def primary_account(accounts: list[AccountStats]) -> AccountStats:
    """The account with the most followers speaks for the creator's audience."""
    return max(accounts, key=lambda a: a.followers)


def engagement_vs_norm(account: AccountStats) -> tuple[float, float]:
    return account.engagement_rate, engagement_norm(account.platform, account.followers)


def account_features(account: AccountStats) -> list[float]:
    er, norm = engagement_vs_norm(account)
    interactions = account.avg_likes + account.avg_comments
    # A spike is judged against the account's own typical month; the floor stops quiet accounts
    # (median ~0) from looking like spikes on any growth at all.
    spike = account.max_monthly_growth / max(account.median_monthly_growth, 0.005)
    return [
        math.log10(max(account.followers, 1)),
        TYPICAL["following_per_follower"]
        if account.following is None
        else min(account.following / max(account.followers, 1), 50.0),
        math.log(max(er, 1e-5) / norm),
        account.avg_comments / interactions if interactions > 0 else float("nan"),
        math.log(max(spike, 1e-3)),
        account.max_monthly_growth,
        TYPICAL["log10_posts"] if account.posts is None else math.log10(max(account.posts, 1)),
        1.0 if account.platform in SHORT_VIDEO_PLATFORMS else 0.0,
    ]


def feature_matrix(accounts: list[AccountStats]) -> np.ndarray:
    return np.array([account_features(a) for a in accounts], dtype=np.float32).reshape(-1, len(FEATURES))


def named_features(account: AccountStats) -> dict[str, float | None]:
    """One account's features by name, NaN as None (for JSON), as stored with an anomaly."""
    return {
        name: None if math.isnan(v) else v
        for name, v in zip(FEATURES, account_features(account), strict=True)
    }


def vector(named: dict[str, float | None]) -> list[float]:
    """Back to the model's order; a feature missing from a stored row (added later) is NaN, as the model learnt."""
    values = [named.get(name) for name in FEATURES]
    return [float("nan") if v is None else float(v) for v in values]
