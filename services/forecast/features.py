"""Pre-publication features of one planned piece of content: only what is known before it goes out.

What the content is about enters as the category's one-hot and whether that category is the creator's own
niche (on / off, both 0 when the creator's categories are unknown); what the message does as its kind's
one-hot. Undeclared content (old records, a forecast without a brief or a message) has all of them 0,
which the model learnt as "not said" from training rows that did not say either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shared.vocabulary import CATEGORIES, FORMATS, MESSAGE_KINDS, PLATFORMS, SHORT_VIDEO_PLATFORMS

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
    *(f"category_{c}" for c in CATEGORIES),
    "on_niche",
    "off_niche",
    *(f"message_{k}" for k in MESSAGE_KINDS),
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
    # Defaults keep forecasts stored before these fields existed loadable (ForecastRecord.inputs).
    category: str | None = None  # shared.vocabulary CATEGORIES; None: not said
    on_niche: bool | None = None  # the category is one of the creator's own; None: unknown
    message_kind: str | None = None  # shared.vocabulary MESSAGE_KINDS; None: not declared


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
        *(float(c.category == k) for k in CATEGORIES),
        float(c.on_niche is True),
        float(c.on_niche is False),
        *(float(c.message_kind == k) for k in MESSAGE_KINDS),
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
    category: np.ndarray | None = None,
    on_niche: np.ndarray | None = None,
    message_kind: np.ndarray | None = None,
) -> np.ndarray:
    """The same matrix as feature_matrix, built column-wise: no Python object per row on the bulk path.
    `category`, `on_niche` (True / False / None) and `message_kind` are object arrays; None: not said."""
    n = len(followers)
    unsaid = np.full(n, None, dtype=object)
    category = unsaid if category is None else category
    on_niche = unsaid if on_niche is None else on_niche
    message_kind = unsaid if message_kind is None else message_kind
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
        *(category == k for k in CATEGORIES),
        on_niche == True,  # noqa: E712 - elementwise on an object array holding None too
        on_niche == False,  # noqa: E712
        *(message_kind == k for k in MESSAGE_KINDS),
    ]
    return np.column_stack([np.asarray(c, dtype=np.float32) for c in cols]).reshape(-1, len(FEATURES))
