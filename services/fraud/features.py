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
        min(account.following / max(account.followers, 1), 50.0),
        math.log(max(er, 1e-5) / norm),
        account.avg_comments / interactions if interactions > 0 else float("nan"),
        math.log(max(spike, 1e-3)),
        account.max_monthly_growth,
        math.log10(max(account.posts, 1)),
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
