"""The columnar bulk path: validate columns once, build the feature matrix with numpy, score in one batch."""

from __future__ import annotations

from typing import Any

import numpy as np

from services.forecast.features import feature_columns
from services.forecast.forecasting import forecast_columns
from services.forecast.learning import Learnt, variant_key
from services.forecast.schemas import ForecastColumnsIn
from shared.errors import Invalid
from shared.onnx_model import OnnxModel
from shared.vocabulary import CATEGORIES, FORMATS, MARKETS, MESSAGE_KINDS, PLATFORMS, SHORT_VIDEO_PLATFORMS


def _known(values: np.ndarray, allowed: tuple[str, ...], field: str) -> None:
    bad = ~np.isin(values, list(allowed))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise Invalid(f"{field}[{i}] = {values[i]!r} is not one of {', '.join(allowed)}", field=field)


def _said(body: ForecastColumnsIn, name: str, allowed: tuple[str, ...] | None = None) -> np.ndarray | None:
    """An optional column of values or nulls as an object array (None: the column was left out)."""
    values = getattr(body, name)
    if values is None:
        return None
    column = np.array(values, dtype=object)
    if allowed is not None:
        said = np.array([v is not None for v in values], dtype=bool)
        _known(np.where(said, column, allowed[0]).astype(str), allowed, name)
    return column


def variants_of(body: ForecastColumnsIn) -> list[str | None]:
    """Each row's message variant key (learning.variant_key); empty when no row names one."""
    if body.campaign_id is None or body.variant_id is None:
        return []
    return [variant_key(c, v) for c, v in zip(body.campaign_id, body.variant_id, strict=True)]


def _column(body: ForecastColumnsIn, name: str, n: int, default: float) -> np.ndarray:
    values = getattr(body, name)
    if values is None:
        return np.full(n, default, dtype=np.float64)
    return np.asarray(values, dtype=np.float64)


def score_columns(model: OnnxModel, body: ForecastColumnsIn, taught: Learnt | None = None) -> dict[str, Any]:
    """Every metric per row, moved by what the organisation's results taught (None: the pooled model)."""
    n = len(body.followers)
    for name in (
        "engagement_rate",
        "platform",
        "format",
        "market",
        "market_share",
        "hour",
        "weekday",
        "paid",
        "creator_id",
        "category",
        "on_niche",
        "message_kind",
        "campaign_id",
        "variant_id",
    ):
        values = getattr(body, name)
        if values is not None and len(values) != n:
            raise Invalid(f"{name} has {len(values)} values, followers has {n}", field=name)
    platform, fmt, market = (np.asarray(getattr(body, c)) for c in ("platform", "format", "market"))
    _known(platform, PLATFORMS, "platform")
    _known(fmt, FORMATS, "format")
    _known(market, MARKETS, "market")
    followers = np.asarray(body.followers, dtype=np.float64)
    x = feature_columns(followers, np.asarray(body.engagement_rate), platform, fmt, market,
                        np.asarray(body.market_share), _column(body, "hour", n, 19), _column(body, "weekday", n, 2),
                        _column(body, "paid", n, 0), _said(body, "category", CATEGORIES), _said(body, "on_niche"),
                        _said(body, "message_kind", MESSAGE_KINDS))  # fmt: skip
    per_view = np.isin(platform, list(SHORT_VIDEO_PLATFORMS))
    shift = taught.shifts(body.creator_id or [], n, variants_of(body)) if taught is not None else None
    metrics = forecast_columns(model, x, fmt, per_view, followers, shift)
    return {"rows": n, "metrics": metrics, "model_name": model.name, "model_version": model.version}
