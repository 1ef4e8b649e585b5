"""Train the page_posts model on a UCI 'Facebook metrics' file and register it with its card.

Measured on the same folds: this model and a plain gradient-boosting baseline (scikit-learn defaults, raw
target, the same seven inputs), so the card compares like with like. scikit-learn is imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from services.forecast.page_posts import (
    FEATURES,
    FITTED_KEY,
    HEADS,
    MODEL_NAME,
    OFFSETS_KEY,
    TARGETS,
    data_fingerprint,
    error_metrics,
    feature_matrix,
    head_name,
    holdout_mask,
    predict,
    read_rows,
    row_fingerprint,
    target_vector,
)
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, OnnxModel
from shared.training import register_version, to_onnx_bytes

# MAPE's optimum is below the median (an over-forecast costs more); 0.25 won on repeated CV of the shared file.
LEVELS = {"p10": 0.1, "point": 0.25, "p50": 0.5, "p90": 0.9}
PUBLISHED = {
    "moro_2016_svm_best_two_targets_mape": 0.27,
    "moro_2016_note": "SVM on the 790-post original; the UCI release has 500 posts and this file ~80% of them",
    "plain_gbm_lifetime_post_consumers_mape_issue": 0.68,
}


def _quantile_model(level: float) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    # Shallow trees and a floor on leaf size: ~400 rows of one page, so variance is the enemy.
    return HistGradientBoostingRegressor(
        loss="quantile", quantile=level, max_iter=200, learning_rate=0.05, max_depth=3,
        min_samples_leaf=10, random_state=0,
    )  # fmt: skip


def _fit_heads(x: np.ndarray, ly: np.ndarray) -> dict[str, Any]:
    return {h: _quantile_model(LEVELS[h]).fit(x, ly) for h in HEADS}


def conformal_offset(
    x: np.ndarray,
    ly: np.ndarray,
    folds: int = 5,
    coverage: float = 0.8,
    make: Callable[[float], Any] = _quantile_model,
) -> float:
    """Cross-conformal (CQR) widening in log space from out-of-fold interval misses (Romano et al. 2019)."""
    from sklearn.model_selection import KFold

    scores = []
    for tr, te in KFold(folds, shuffle=True, random_state=1).split(x):
        lo = make(0.1).fit(x[tr], ly[tr]).predict(x[te])
        hi = make(0.9).fit(x[tr], ly[tr]).predict(x[te])
        scores.append(np.maximum(lo - ly[te], ly[te] - hi))
    s = np.concatenate(scores)
    level = min(1.0, np.ceil((len(s) + 1) * coverage) / len(s))
    return float(np.quantile(s, level))


def _native_predict(heads: dict[str, Any], q: float, x: np.ndarray) -> dict[str, np.ndarray]:
    raw = {h: m.predict(x) for h, m in heads.items()}
    lo, hi = np.minimum(raw["p10"], raw["p50"]) - q, np.maximum(raw["p90"], raw["p50"]) + q
    return {
        "p10": np.expm1(lo),
        "point": np.expm1(raw["point"]),
        "p50": np.expm1(raw["p50"]),
        "p90": np.expm1(hi),
    }


def _plain(x: np.ndarray, y: np.ndarray, tr: np.ndarray, te: np.ndarray) -> np.ndarray:
    from sklearn.ensemble import GradientBoostingRegressor

    raw = np.nan_to_num(x[:, [0, *range(2, x.shape[1])]])  # the seven inputs as given, no log, NaN -> 0
    return np.asarray(GradientBoostingRegressor(random_state=0).fit(raw[tr], y[tr]).predict(raw[te]))


def cross_validate(x: np.ndarray, y: np.ndarray, repeats: int = 2) -> dict[str, Any]:
    """Repeated 5-fold CV of this model (with its conformal step) and of the plain baseline, same folds."""
    from sklearn.model_selection import KFold

    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]
    ly = np.log1p(y)
    mine: dict[str, list[np.ndarray]] = {h: [] for h in HEADS}
    plain, truth = [], []
    for r in range(repeats):
        for tr, te in KFold(5, shuffle=True, random_state=100 + r).split(x):
            pred = _native_predict(_fit_heads(x[tr], ly[tr]), conformal_offset(x[tr], ly[tr]), x[te])
            for h in HEADS:
                mine[h].append(pred[h])
            plain.append(_plain(x, y, tr, te))
            truth.append(y[te])
    yt = np.concatenate(truth)
    result = error_metrics(yt, {h: np.concatenate(v) for h, v in mine.items()})
    p = np.concatenate(plain)
    pos = yt > 0
    result["plain_gbm_mape"] = round(float(np.mean(np.abs(yt[pos] - p[pos]) / yt[pos])), 4)
    return result


def train(path: Path, registry: ModelRegistry, licence: str, log: Callable[[str], None] = print) -> OnnxModel:
    """Fit on 80% of the file (fixed seed), keep 20% as hold-out; CV figures come from the whole file."""
    from threadpoolctl import threadpool_limits

    rows = read_rows(str(path))
    x = feature_matrix(rows)
    holdout = holdout_mask(len(rows))
    heads: dict[str, bytes] = {}
    offsets: dict[str, float] = {}
    cv: dict[str, Any] = {}
    for target in TARGETS:
        y = target_vector(rows, target)
        fit = ~holdout & ~np.isnan(y)
        ly = np.log1p(y[fit])
        # One OpenMP thread: ~1,100 fits on ~320 rows each; on 2 busy cores two threads per fit ran over
        # 20 minutes without finishing one target, one thread takes ~40 s per target.
        with threadpool_limits(1):
            for h, est in _fit_heads(x[fit], ly).items():
                heads[head_name(target, h)] = to_onnx_bytes(est, len(FEATURES))
            offsets[target] = round(conformal_offset(x[fit], ly), 6)
            cv[target] = cross_validate(x, y)
        log(f"{target}: {cv[target]}")

    def evaluate(model: OnnxModel) -> dict[str, Any]:
        model.card.metrics[OFFSETS_KEY] = offsets  # predict() reads the offsets from the card
        pred = predict(model, x[holdout])
        held = {t: error_metrics(target_vector(rows, t)[holdout], pred[t]) for t in TARGETS}
        return {
            OFFSETS_KEY: offsets,
            FITTED_KEY: sorted({row_fingerprint(r) for r, h in zip(rows, holdout, strict=True) if not h}),
            "holdout": held,
            "holdout_rows": int(holdout.sum()),
            "cv_5fold_x2": cv,
            "published": PUBLISHED,
        }

    return register_version(
        registry,
        MODEL_NAME,
        heads,
        task="quantile_regression",
        features=FEATURES,
        data=DataRef(
            source=f"UCI Facebook metrics (Moro et al. 2016), {path.name}",
            sha256=data_fingerprint(rows),  # evaluation knows its training file by this
            rows=len(rows),
            licence=licence,
        ),
        evaluate=evaluate,
        notes=(
            "Inputs known before posting only. Heads per target: p10/p50/p90 quantiles of log1p(value) and "
            "a MAPE-oriented 'point' (quantile 0.25). 80% interval widened by a cross-conformal log offset. "
            "mape/mae are of 'point'; mape_p50 is of the median. Compare: Moro et al. 2016 ~27% MAPE (best "
            "two targets, SVM, 790 posts); plain gradient boosting ~68% MAPE on Lifetime Post Consumers "
            "(issue, one split) and plain_gbm_mape here on the same CV folds."
        ),
    )
