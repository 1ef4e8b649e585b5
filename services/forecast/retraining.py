"""Champion/challenger retraining of the forecast model on campaign results.

The round itself (hold out the most recent results, fit, compare on the same held-out rows, promote by a
margin, register every version) is `shared.retraining`; this module says what the forecast's rows, fit and
error are.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session

from services.forecast import training_sets
from services.forecast.calibration import calibrated_heads
from services.forecast.features import FEATURES
from services.forecast.forecasting import TARGETS
from services.forecast.models import ForecastOutcome
from services.forecast.training import MODEL_NAME, holdout_metrics
from shared import retraining as shared
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, OnnxModel
from shared.retraining import Outcome as Outcome
from shared.retraining import Policy as Policy
from shared.training import data_sha256
from shared.vocabulary import PLATFORMS

RESULTS_LICENCE = "campaign results reported to this Tandem installation (the organisations' own data)"
SPEC = shared.Spec(model_name=MODEL_NAME, loss_name="log_mae", unit="results")


def error(model: OnnxModel, x: np.ndarray, ys: dict[str, np.ndarray]) -> float:
    """Mean absolute error of the median in log1p units, averaged over targets (~ a typical relative error)."""
    per_target = [float(np.mean(np.abs(model.run(f"{t}_p50", x, count=False) - ys[t]))) for t in TARGETS]
    return round(float(np.mean(per_target)), 5)


class ForecastContest:
    """Results in the order received, split at `cut`: quantile heads fitted on the older ones."""

    def __init__(self, rows: list[training_sets.TrainingRow], cut: int) -> None:
        self.rows, self.cut = rows, cut
        self.x, self.ys = training_sets.arrays(rows)
        self.test_ys = {t: y[cut:] for t, y in self.ys.items()}

    def fit(self) -> shared.Challenger:
        cut, x = self.cut, self.x
        stacked = np.column_stack([self.ys[t] for t in TARGETS])
        source = f"campaign results up to {self.rows[cut - 1].received_at.isoformat()} ({cut} rows)"
        return shared.Challenger(
            heads=calibrated_heads(x[:cut], {t: y[:cut] for t, y in self.ys.items()}), task="quantile_regression",
            features=FEATURES, reference_rows=x[:cut],
            data=DataRef(source=source, sha256=data_sha256(x[:cut], stacked[:cut]), rows=cut, licence=RESULTS_LICENCE),
        )  # fmt: skip

    def loss(self, model: OnnxModel) -> float:
        return error(model, self.x[self.cut :], self.test_ys)

    def holdout(self, model: OnnxModel) -> dict[str, Any]:
        return holdout_metrics(model, self.x[self.cut :], self.test_ys)

    def coverage(self, model: OnnxModel) -> dict[str, tuple[int, int]]:
        """Per platform and target: held-out results inside the 80% interval, and results."""
        return interval_counts(model, self.x[self.cut :], self.test_ys)


def interval_counts(model: OnnxModel, x: np.ndarray, ys: dict[str, np.ndarray]) -> dict[str, tuple[int, int]]:
    """`{platform}/{target}` -> (inside the p10-p90 interval, rows), platforms read from the one-hot features."""
    counts: dict[str, tuple[int, int]] = {}
    for t in TARGETS:
        p10, p90 = (model.run(f"{t}_{q}", x, count=False) for q in ("p10", "p90"))
        inside = (ys[t] >= p10) & (ys[t] <= p90)
        for p in PLATFORMS:
            rows = x[:, FEATURES.index(f"platform_{p}")] == 1
            if rows.any():
                counts[f"{p}/{t}"] = (int(inside[rows].sum()), int(rows.sum()))
    return counts


def challenge(registry: ModelRegistry, rows: list[training_sets.TrainingRow], policy: Policy,
              trigger: str, run_id: str | None = None) -> Outcome:  # fmt: skip
    """Fit, export, register and compare one challenger; promote it if it wins by the margin."""
    return shared.challenge(
        registry, SPEC, len(rows), lambda cut: ForecastContest(rows, cut), policy, trigger, run_id
    )


def results_since(session: Session, last: datetime | None) -> int:
    """Scored outcomes received after `last` (all of them when there was no run yet)."""
    return shared.count_since(session, ForecastOutcome.received_at, last)


def pooled_orgs(opted_in: Collection[str]) -> Collection[str] | None:
    """The organisations whose results may train the pooled model (None: every one, '*' opted in)."""
    return None if "*" in opted_in else opted_in


def retrain(db: Database, outbox: Outbox, registry: ModelRegistry, policy: Policy, trigger: str,
            run_id: str | None = None, *, opted_in: Collection[str]) -> Outcome:  # fmt: skip
    """Read the point-in-time training set of the organisations that opted in, run one challenge, record it
    and stage ModelPromoted if it won. The pooled model starts every organisation's forecasts, so the
    results of one that did not opt in must not move it (learning.py adapts its own forecasts instead)."""
    with db.transaction() as session:
        rows = training_sets.rows(session, orgs=pooled_orgs(opted_in))
    return shared.record(db, outbox, challenge(registry, rows, policy, trigger, run_id))


class RetrainTrigger(shared.RetrainTrigger):
    """Retrains when `every` new outcomes were scored since the last run (checked every `interval_s`)."""

    def __init__(self, db: Database, outbox: Outbox, registry: ModelRegistry, policy: Policy, every: int,
                 interval_s: float, opted_in: Collection[str]) -> None:  # fmt: skip
        def run(trigger: str, run_id: str) -> Outcome:
            return retrain(db, outbox, registry, policy, trigger, run_id, opted_in=opted_in)

        super().__init__(db, MODEL_NAME, results_since, run, every, interval_s, trigger="every_n_results")
