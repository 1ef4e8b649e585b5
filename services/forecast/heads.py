"""The forecast's centre models: one monotone gradient-boosting regressor of log1p(target) per target.

Monotone where the world is: more followers or a higher engagement rate never lowers a forecast. The
quantile and absolute-error losses of scikit-learn re-fit each leaf after its tree is grown, which breaks
`monotonic_cst` (the shipped v2 heads still dipped by up to 10% in ER). Squared error keeps the constraint
exact, so every head is one centre model plus a constant per-platform shift (see calibration.py): a
constant shift cannot undo monotonicity.
"""

from __future__ import annotations

import numpy as np

from services.forecast.features import FEATURES
from shared.training import to_onnx_bytes

MONOTONE = [1 if name in ("log10_followers", "log_engagement_rate") else 0 for name in FEATURES]


def fit_centers(x: np.ndarray, ys: dict[str, np.ndarray], max_iter: int = 150) -> dict[str, bytes]:
    """Per target: a squared-error HistGradientBoosting regressor on log1p(target), exported to ONNX."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    heads: dict[str, bytes] = {}
    # One OpenMP thread: on small result sets the thread pool's start-up and contention with the serving
    # threads cost more than the parallel split search gains (measured ~10x slower on 2 busy cores).
    with threadpool_limits(1):
        for target, y in ys.items():
            reg = HistGradientBoostingRegressor(
                loss="squared_error", monotonic_cst=MONOTONE, max_iter=max_iter, max_depth=5,
                learning_rate=0.08, random_state=0,
            )  # fmt: skip
            heads[target] = to_onnx_bytes(reg.fit(x, y), len(FEATURES))
    return heads
