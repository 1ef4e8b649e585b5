"""The conformal step of page_posts training: widened intervals cover ~80% of fresh data."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from services.forecast.page_posts_training import conformal_offset


def _small(level: float) -> Any:
    """A cheaper head than training's, to keep the test fast; the conformal step does not care which."""
    return HistGradientBoostingRegressor(
        loss="quantile", quantile=level, max_iter=40, max_depth=3, random_state=0
    )


def test_conformal_offset_brings_fresh_coverage_near_nominal() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (1_400, 3)).astype(np.float32)
    # Heavy-tailed noise: plain quantile heads on 400 rows under-cover, as on the Facebook page data.
    y = 3 * x[:, 0] + rng.standard_t(3, len(x)) * (0.3 + x[:, 1])
    fit, fresh = slice(0, 400), slice(400, None)
    q = conformal_offset(x[fit], y[fit], make=_small)
    lo = _small(0.1).fit(x[fit], y[fit]).predict(x[fresh]) - q
    hi = _small(0.9).fit(x[fit], y[fit]).predict(x[fresh]) + q
    coverage = float(np.mean((y[fresh] >= lo) & (y[fresh] <= hi)))
    assert abs(coverage - 0.8) <= 0.05
