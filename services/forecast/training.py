"""Train the forecast heads (p10/p50/p90 per target) and register them as one ONNX model."""

from __future__ import annotations

from typing import Any

import numpy as np

from services.forecast.calibration import calibrated_heads
from services.forecast.features import FEATURES, PlannedContent, feature_matrix
from services.forecast.forecasting import QUANTILES, TARGETS
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, OnnxModel
from shared.training import data_sha256, register_version
from shared.vocabulary import CATEGORIES, FORMATS, MESSAGE_KINDS, PLATFORMS

MODEL_NAME = "forecast"
NOTES = (
    "p50: a squared-error gradient-boosting model of log1p(target), monotone increasing in followers and "
    "engagement rate. p10/p90: a centre model fitted on the older three quarters of the training rows, moved by "
    "split-conformal shifts measured per platform on the newest quarter (shrunk toward the pooled shift). "
    "holdout metrics are on rows never used for fitting or calibration; holdout_by_segment splits them by "
    "platform, format, content category (category=none: not said), whether the category is the creator's own "
    "niche, and message kind (message=none: not declared)."
)


def interval_metrics(y: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray) -> dict[str, float]:
    """MAE and MAPE of the median, and how often the 80% interval holds the truth (in original units)."""
    y, p10, p50, p90 = (np.expm1(a) for a in (y, p10, p50, p90))
    nonzero = y > 0
    return {
        "mae": round(float(np.mean(np.abs(y - p50))), 2),
        "mape": round(float(np.mean(np.abs(y[nonzero] - p50[nonzero]) / y[nonzero])), 4),
        "coverage80": round(float(np.mean((y >= p10) & (y <= p90))), 4),
    }


def holdout_metrics(
    model: OnnxModel, x: np.ndarray, ys: dict[str, np.ndarray]
) -> dict[str, dict[str, float]]:
    """Interval metrics per target of an exported model on log1p targets."""
    return {
        t: interval_metrics(ys[t], *(model.run(f"{t}_{q}", x, count=False) for q in QUANTILES))
        for t in TARGETS
    }


def _segments(x: np.ndarray) -> dict[str, np.ndarray]:
    """Segment name -> its rows: one per platform, format, category, niche and message kind; rows that did
    not say their category or message kind are segments of their own."""

    def hot(column: str) -> np.ndarray:
        return np.asarray(x[:, FEATURES.index(column)] == 1)

    def unsaid(columns: list[str]) -> np.ndarray:
        return np.asarray(x[:, [FEATURES.index(c) for c in columns]].sum(axis=1) == 0)

    categories, kinds = [f"category_{c}" for c in CATEGORIES], [f"message_{k}" for k in MESSAGE_KINDS]
    return {
        **{f"platform={p}": hot(f"platform_{p}") for p in PLATFORMS},
        **{f"format={f}": hot(f"format_{f}") for f in FORMATS},
        **{f"category={c}": hot(f"category_{c}") for c in CATEGORIES},
        "category=none": unsaid(categories),
        "niche=on": hot("on_niche"),
        "niche=off": hot("off_niche"),
        **{f"message={k}": hot(f"message_{k}") for k in MESSAGE_KINDS},
        "message=none": unsaid(kinds),
    }


def segment_metrics(model: OnnxModel, x: np.ndarray, ys: dict[str, np.ndarray]) -> dict[str, Any]:
    """Segment name (`platform=<p>`, `format=<f>`, `category=<c>`, `niche=on|off`, `message=<kind>`) -> rows
    and per-target interval metrics (segments with rows only)."""
    out: dict[str, Any] = {}
    for name, rows in _segments(x).items():
        if rows.any():
            per = holdout_metrics(model, x[rows], {t: y[rows] for t, y in ys.items()})
            out[name] = {"rows": int(rows.sum()), **per}
    return out


def train(
    items: list[PlannedContent],
    targets: dict[str, list[float]],
    registry: ModelRegistry,
    source: str,
    licence: str,
    promote: bool = True,
) -> OnnxModel:
    """Fit (and calibrate) on four fifths of the rows, score the exported graph on the rest, register it."""
    x = feature_matrix(items)
    ys = {t: np.log1p(np.asarray(targets[t], dtype=np.float64)) for t in TARGETS}
    test = np.arange(len(x)) % 5 == 0
    heads = calibrated_heads(x[~test], {t: y[~test] for t, y in ys.items()})

    def evaluate(model: OnnxModel) -> dict[str, object]:
        held = {t: y[test] for t, y in ys.items()}
        return {"holdout": holdout_metrics(model, x[test], held), "holdout_rows": int(test.sum()),
                "holdout_by_segment": segment_metrics(model, x[test], held)}  # fmt: skip

    stacked = np.column_stack([ys[t] for t in TARGETS])
    return register_version(
        registry,
        MODEL_NAME,
        heads,
        task="quantile_regression",
        features=FEATURES,
        data=DataRef(source=source, sha256=data_sha256(x, stacked), rows=len(x), licence=licence),
        evaluate=evaluate,
        notes=NOTES,
        promote=promote,
        reference_rows=x[~test],
    )
