"""Pre-publication features of one planned piece of content: only what is known before it goes out."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shared.vocabulary import FORMATS, PLATFORMS, SHORT_VIDEO_PLATFORMS

RU_SPHERE = frozenset({"RU", "KZ", "UA", "BY"})
FEATURES: list[str] = [
    "log10_followers",
    "log_engagement_rate",
    "per_view_basis",
    "market_audience_share",
    "market_ru_sphere",
    "hour",
    "weekday",
    "paid",
    *(f"platform_{p}" for p in PLATFORMS),
    *(f"format_{f}" for f in FORMATS),
]


@dataclass(frozen=True)
class PlannedContent:
    followers: int
    engagement_rate: float
    per_view: bool
    platform: str
    format: str
    market: str
    market_share: float
    hour: int
    weekday: int
    paid: bool


def feature_row(c: PlannedContent) -> list[float]:
    return [
        math.log10(max(c.followers, 1)),
        math.log(max(c.engagement_rate, 1e-5)),
        float(c.per_view),
        c.market_share,
        float(c.market in RU_SPHERE),
        float(c.hour),
        float(c.weekday),
        float(c.paid),
        *(float(c.platform == p) for p in PLATFORMS),
        *(float(c.format == f) for f in FORMATS),
    ]


def feature_matrix(items: list[PlannedContent]) -> np.ndarray:
    return np.array([feature_row(c) for c in items], dtype=np.float32).reshape(-1, len(FEATURES))


def feature_columns(
    followers: np.ndarray,
    engagement_rate: np.ndarray,
    platform: np.ndarray,
    fmt: np.ndarray,
    market: np.ndarray,
    market_share: np.ndarray,
    hour: np.ndarray,
    weekday: np.ndarray,
    paid: np.ndarray,
) -> np.ndarray:
    """The same matrix as feature_matrix, built column-wise: no Python object per row on the bulk path."""
    per_view = np.isin(platform, list(SHORT_VIDEO_PLATFORMS))
    cols = [
        np.log10(np.maximum(followers, 1)),
        np.log(np.maximum(engagement_rate, 1e-5)),
        per_view,
        market_share,
        np.isin(market, list(RU_SPHERE)),
        hour,
        weekday,
        paid,
        *(platform == p for p in PLATFORMS),
        *(fmt == f for f in FORMATS),
    ]
    return np.column_stack([np.asarray(c, dtype=np.float32) for c in cols]).reshape(-1, len(FEATURES))
