"""Forecasts with 80% intervals from the quantile heads of the forecast model, plus the funnel below them.

Reach and engagements are learnt (quantile heads of log1p(value)). Clicks and conversions are not in the
demo history, so they are derived from the engagement quantiles with stated funnel rates until click data
arrives; the engagement rate says which basis it uses (per follower for feed, per view for short video).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from services.forecast.features import PlannedContent, feature_matrix
from shared.events import MetricForecast
from shared.onnx_model import OnnxModel

# Targets are modelled as log1p(value); heads are named <target>_<quantile>.
TARGETS: dict[str, str] = {
    "reach": "unique accounts reached by the piece of content",
    "engagements": "likes + comments + shares + saves on the piece of content",
}
QUANTILES = ("p10", "p50", "p90")
# Link clicks per engagement by format (stories and streams carry links best) and conversions per click:
# round industry rules of thumb, stated in every definition; replace with learnt heads when results arrive.
CLICKS_PER_ENGAGEMENT = {"post": 0.04, "reel": 0.03, "story": 0.12, "long_video": 0.06, "stream": 0.08}
CONVERSIONS_PER_CLICK = 0.025
DERIVED: dict[str, str] = {
    "clicks": "link clicks = engagements x a per-format click rate (assumed, not learnt)",
    "conversions": f"conversions = clicks x {CONVERSIONS_PER_CLICK} (assumed, not learnt)",
}
RATE_DEFINITIONS = {
    False: "engagement rate per follower: engagements / followers (feed content)",
    True: "engagement rate per view: engagements / reach p50 (short video)",
}


def _metric(name: str, q: tuple[float, float, float], definition: str, digits: int = 1) -> MetricForecast:
    # Separately fitted quantile heads can cross on rare inputs; sorting restores p10 <= p50 <= p90.
    lo, mid, hi = sorted(max(v, 0.0) for v in q)
    return MetricForecast(
        metric=name,
        p10=round(lo, digits),
        p50=round(mid, digits),
        p90=round(hi, digits),
        definition=definition,
    )


def _scaled(q: tuple[float, float, float], factor: float) -> tuple[float, float, float]:
    return (q[0] * factor, q[1] * factor, q[2] * factor)


def _derived(item: PlannedContent, reach50: float, eng: tuple[float, float, float]) -> list[MetricForecast]:
    clicks = _scaled(eng, CLICKS_PER_ENGAGEMENT[item.format])
    denominator = reach50 if item.per_view else float(item.followers)
    return [
        _metric("clicks", clicks, DERIVED["clicks"]),
        _metric("conversions", _scaled(clicks, CONVERSIONS_PER_CLICK), DERIVED["conversions"], digits=2),
        _metric(
            "engagement_rate", _scaled(eng, 1 / max(denominator, 1.0)), RATE_DEFINITIONS[item.per_view], 5
        ),
    ]


def forecast(
    model: OnnxModel, items: list[PlannedContent], offsets: Sequence[Mapping[str, float]] | None = None
) -> list[list[MetricForecast]]:
    """One list of metric forecasts per planned item, scored in one batch per head; `offsets` (one per item,
    log1p units per target) are what the organisation's own results taught (learning.py)."""
    shift = {t: np.array([o.get(t, 0.0) for o in offsets]) for t in TARGETS} if offsets else None
    return forecast_shifted(model, items, shift)


def _heads(
    model: OnnxModel, x: np.ndarray, shift: Mapping[str, np.ndarray] | None, wide: bool = False
) -> dict[str, np.ndarray]:
    """expm1 of every quantile head (in float64 when `wide`), each target moved by its per-row `shift`
    (None: the pooled model as is, with no extra pass over the rows)."""
    out = {}
    for t in TARGETS:
        for q in QUANTILES:
            raw = model.run(f"{t}_{q}", x)
            raw = raw.astype(np.float64) if wide else raw
            out[f"{t}_{q}"] = np.expm1(raw if shift is None else raw + shift[t])
    return out


def forecast_shifted(
    model: OnnxModel, items: list[PlannedContent], shift: Mapping[str, np.ndarray] | None
) -> list[list[MetricForecast]]:
    """`forecast` with the offsets already as one array per target (learning.Learnt.shifts)."""
    if not items:
        return []
    per_head = _heads(model, feature_matrix(items), shift)
    out = []
    for i, item in enumerate(items):
        metrics = [
            _metric(t, (float(per_head[f"{t}_p10"][i]), float(per_head[f"{t}_p50"][i]), float(per_head[f"{t}_p90"][i])),
                    TARGETS[t])
            for t in TARGETS
        ]  # fmt: skip
        eng = (metrics[1].p10, metrics[1].p50, metrics[1].p90)
        out.append([*metrics, *_derived(item, metrics[0].p50, eng)])
    return out


def _sorted_quantiles(q10: np.ndarray, q50: np.ndarray, q90: np.ndarray) -> dict[str, list[float]]:
    stacked = np.sort(np.maximum(np.stack([q10, q50, q90]), 0.0), axis=0)
    return {name: np.round(stacked[i], 4).tolist() for i, name in enumerate(QUANTILES)}


def forecast_columns(
    model: OnnxModel,
    x: np.ndarray,
    fmt: np.ndarray,
    per_view: np.ndarray,
    followers: np.ndarray,
    shift: Mapping[str, np.ndarray] | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Column-wise forecasts of every metric for a feature matrix (same figures as `forecast`, unrounded)."""
    heads = _heads(model, x, shift, wide=True)
    q = {t: [heads[f"{t}_{p}"] for p in QUANTILES] for t in TARGETS}
    ctr = np.vectorize(CLICKS_PER_ENGAGEMENT.__getitem__, otypes=[float])(fmt) if len(fmt) else np.zeros(0)
    eng = [np.maximum(e, 0.0) for e in q["engagements"]]
    reach50 = np.maximum(q["reach"][1], 0.0)
    denominator = np.maximum(np.where(per_view, reach50, followers), 1.0)
    clicks = [e * ctr for e in eng]
    return {
        "reach": _sorted_quantiles(*q["reach"]),
        "engagements": _sorted_quantiles(*q["engagements"]),
        "clicks": _sorted_quantiles(*clicks),
        "conversions": _sorted_quantiles(*(c * CONVERSIONS_PER_CLICK for c in clicks)),
        "engagement_rate": _sorted_quantiles(*(e / denominator for e in eng)),
    }
