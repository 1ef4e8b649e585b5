"""Forecasts with 80% intervals from the quantile heads of the forecast model."""

from __future__ import annotations

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


def forecast(model: OnnxModel, items: list[PlannedContent]) -> list[list[MetricForecast]]:
    """One list of metric forecasts per planned item, scored in one batch per head."""
    if not items:
        return []
    x = feature_matrix(items)
    per_head = {f"{t}_{q}": np.expm1(model.run(f"{t}_{q}", x)) for t in TARGETS for q in QUANTILES}
    out = []
    for i in range(len(items)):
        metrics = []
        for target, definition in TARGETS.items():
            # Separately fitted quantile heads can cross on rare inputs; sorting restores p10 <= p50 <= p90.
            p10, p50, p90 = sorted(float(max(per_head[f"{target}_{q}"][i], 0.0)) for q in QUANTILES)
            metrics.append(
                MetricForecast(
                    metric=target,
                    p10=round(p10, 1),
                    p50=round(p50, 1),
                    p90=round(p90, 1),
                    definition=definition,
                )
            )
        out.append(metrics)
    return out
