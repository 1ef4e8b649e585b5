"""Brand-page post forecasts from the UCI 'Facebook metrics' format: pre-publication inputs -> lifetime metrics.

Only what is known before a post goes out is used (type, category, page likes, month, weekday, hour, paid);
the lifetime metrics are outcomes and never inputs. Each target has three quantile heads of log1p(value)
(p10/p50/p90) plus a `point` head fitted at a lower quantile: MAPE punishes an over-forecast more than an
under-forecast of the same size, so its optimum sits below the median. The 80% interval is widened by a
cross-conformal offset (in log space, stored on the card) so held-out coverage is close to nominal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shared.onnx_model import OnnxModel
from shared.training import data_sha256

MODEL_NAME = "page_posts"
POST_TYPES = ("Photo", "Status", "Link", "Video")
FEATURES: list[str] = [
    "page_total_likes",
    "log_page_total_likes",
    *(f"type_{t.lower()}" for t in POST_TYPES),
    "category",
    "post_month",
    "post_weekday",
    "post_hour",
    "paid",
]
TARGETS: tuple[str, ...] = (
    "Lifetime Post Total Reach",
    "Lifetime Post Total Impressions",
    "Lifetime Engaged Users",
    "Lifetime Post Consumers",
    "Lifetime Post Consumptions",
    "Lifetime Post Impressions by people who have liked your Page",
    "Lifetime Post reach by people who like your Page",
    "Lifetime People who have liked your Page and engaged with your post",
)
INPUT_COLUMNS = ("Page total likes", "Type", "Category", "Post Month", "Post Weekday", "Post Hour", "Paid")
HEADS = ("p10", "point", "p50", "p90")
OFFSETS_KEY = "conformal_log_offsets"
FITTED_KEY = "fitted_row_fingerprints"


def head_name(target: str, head: str) -> str:
    """ONNX head names must be file names: 'Lifetime Post Consumers' + p10 -> lifetime_post_consumers__p10."""
    return "_".join(target.lower().split()) + "__" + head


def _num(value: Any) -> float:
    """A number, or NaN for a blank cell (the trees route missing values on their own)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def feature_row(row: Mapping[str, Any]) -> list[float]:
    likes = _num(row.get("Page total likes"))
    return [
        likes,
        float(np.log(likes)) if likes > 0 else float("nan"),
        *(float(row.get("Type") == t) for t in POST_TYPES),
        _num(row.get("Category")),
        _num(row.get("Post Month")),
        _num(row.get("Post Weekday")),
        _num(row.get("Post Hour")),
        _num(row.get("Paid")),
    ]


def feature_matrix(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    return np.array([feature_row(r) for r in rows], dtype=np.float32).reshape(-1, len(FEATURES))


def predict(model: OnnxModel, x: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Per target: p10/point/p50/p90 in original units, the interval widened by the conformal offset."""
    offsets: dict[str, float] = model.card.metrics.get(OFFSETS_KEY, {})
    out: dict[str, dict[str, np.ndarray]] = {}
    for target in TARGETS:
        raw = {h: model.run(head_name(target, h), x, count=False).astype(np.float64) for h in HEADS}
        q = offsets.get(target, 0.0)
        lo, hi = np.minimum(raw["p10"], raw["p50"]) - q, np.maximum(raw["p90"], raw["p50"]) + q
        out[target] = {
            "p10": np.expm1(lo).clip(0),
            "point": np.expm1(raw["point"]).clip(0),
            "p50": np.expm1(raw["p50"]).clip(0),
            "p90": np.expm1(hi).clip(0),
        }
    return out


def error_metrics(y: np.ndarray, pred: Mapping[str, np.ndarray]) -> dict[str, float]:
    """MAE and MAPE of the point forecast (rows with y > 0; NaN targets skipped), and 80% coverage."""
    ok = ~np.isnan(y)
    y = y[ok]
    p = {k: v[ok] for k, v in pred.items()}
    pos = y > 0
    return {
        "mae": round(float(np.mean(np.abs(y - p["point"]))), 2),
        "mape": round(float(np.mean(np.abs(y[pos] - p["point"][pos]) / y[pos])), 4),
        "mape_p50": round(float(np.mean(np.abs(y[pos] - p["p50"][pos]) / y[pos])), 4),
        "coverage80": round(float(np.mean((y >= p["p10"]) & (y <= p["p90"]))), 4),
        "rows": len(y),
    }


def target_vector(rows: Sequence[Mapping[str, Any]], target: str) -> np.ndarray:
    return np.array([_num(r.get(target)) for r in rows], dtype=np.float64)


def holdout_mask(n: int) -> np.ndarray:
    """The rows of a training file train() keeps out of fitting: a fixed-seed fifth."""
    return np.asarray(np.random.default_rng(0).permutation(n) < round(0.2 * n))


def data_fingerprint(rows: Sequence[Mapping[str, Any]]) -> str:
    """The sha256 a card records for its training file: inputs and every target, blanks as 0."""
    ys = np.column_stack([target_vector(rows, t) for t in TARGETS])
    return data_sha256(np.nan_to_num(feature_matrix(rows)), np.nan_to_num(ys))


def row_fingerprint(row: Mapping[str, Any]) -> str:
    """A short hash of one post's inputs and targets (blanks as 0): how a card names the rows it fitted on."""
    values = np.nan_to_num(
        np.array([*feature_row(row), *(_num(row.get(t)) for t in TARGETS)], dtype=np.float32)
    )
    return hashlib.sha256(values.tobytes()).hexdigest()[:16]


def fitted_rows(model: OnnxModel, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Which rows the model was fitted on: those the card lists (any file, any order); for a card without
    the list, all but the hold-out fifth when `rows` are exactly its training file."""
    if known := set(model.card.metrics.get(FITTED_KEY, [])):
        return np.array([row_fingerprint(r) in known for r in rows], dtype=bool)
    if not rows or data_fingerprint(rows) != model.card.training_data.sha256:
        return np.zeros(len(rows), dtype=bool)
    return ~holdout_mask(len(rows))


def evaluate_file(model: OnnxModel, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per target column present: figures on the rows the model never fitted on (`held_out`) and, when the
    file holds its training rows, which rows those are, the model's figures on them (`in_sample`, not a
    test) and the card's cross-validated figures on the whole training file."""
    fitted = fitted_rows(model, rows)
    pred = predict(model, feature_matrix(rows))
    present = [t for t in TARGETS if t in rows[0]]
    out: dict[str, Any] = {"rows": len(rows), "in_sample_rows": [int(i) + 1 for i in np.flatnonzero(fitted)],
                           "model": f"{model.name} v{model.version}", "targets": {}}  # fmt: skip
    cv = model.card.metrics.get("cv_5fold_x2", {})
    for t in present:
        y = target_vector(rows, t)
        entry: dict[str, Any] = {
            "held_out": error_metrics(y[~fitted], {k: v[~fitted] for k, v in pred[t].items()})
        }
        if fitted.any():
            entry["in_sample"] = error_metrics(y[fitted], {k: v[fitted] for k, v in pred[t].items()})
            entry["cross_validated"] = cv.get(t)
        out["targets"][t] = entry
    return out


def forecast_rows(model: OnnxModel, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per row: every lifetime target's p10/point/p50/p90, rounded, for the REST route."""
    pred = predict(model, feature_matrix(rows))
    return [
        {t: {h: round(float(pred[t][h][i]), 1) for h in ("p10", "point", "p50", "p90")} for t in TARGETS}
        for i in range(len(rows))
    ]


def read_rows(path: str) -> list[dict[str, Any]]:
    """Rows of a CSV in the UCI format (comma- or semicolon-separated, as UCI ships it)."""
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        rows = list(csv.DictReader(fh, delimiter=delimiter))
    missing = [c for c in INPUT_COLUMNS if rows and c not in rows[0]]
    if missing:
        raise ValueError(f"{path}: missing input columns {missing}")
    return rows
