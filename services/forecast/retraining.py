"""Champion/challenger retraining on campaign results.

The most recent outcomes are held out; a challenger is fitted on the older ones, both models are scored on
the same held-out outcomes, and the challenger becomes champion only if its error is lower by the margin.
Every challenger is kept in the registry (card, metrics, data hash, parent), promoted or not.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from services.forecast import training_sets
from services.forecast.features import FEATURES
from services.forecast.forecasting import TARGETS
from services.forecast.models import ForecastOutcome, RetrainRun
from services.forecast.training import MODEL_NAME, fit_heads, holdout_metrics
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.events import ModelPromoted
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, OnnxModel
from shared.training import data_sha256, register_version

log = logging.getLogger(__name__)
RESULTS_LICENCE = "campaign results reported to this Tandem installation (the organisations' own data)"


@dataclass(frozen=True)
class Policy:
    margin: float = 0.02  # relative error reduction a challenger needs, so noise does not churn versions
    holdout_share: float = 0.2
    min_rows: int = 200


@dataclass(frozen=True)
class Outcome:
    run: RetrainRun
    challenger: OnnxModel | None
    promoted: ModelPromoted | None


def error(model: OnnxModel, x: np.ndarray, ys: dict[str, np.ndarray]) -> float:
    """Mean absolute error of the median in log1p units, averaged over targets (~ a typical relative error)."""
    per_target = [float(np.mean(np.abs(model.run(f"{t}_p50", x, count=False) - ys[t]))) for t in TARGETS]
    return round(float(np.mean(per_target)), 5)


def _split(n: int, share: float) -> int:
    """Index of the first held-out row: the most recent `share` of the rows, at least one."""
    return n - max(1, round(n * share))


def challenge(registry: ModelRegistry, rows: list[training_sets.TrainingRow], policy: Policy,
              trigger: str, run_id: str | None = None) -> Outcome:  # fmt: skip
    """Fit, export, register and compare one challenger; promote it if it wins by the margin."""
    now = datetime.now(UTC)
    run = RetrainRun(run_id=run_id or f"rt-{uuid.uuid4().hex[:12]}", model_name=MODEL_NAME, started_at=now, trigger=trigger,
                     train_rows=0, holdout_rows=0, champion_version=registry.champion_version(MODEL_NAME))  # fmt: skip
    if len(rows) < policy.min_rows:
        run.report = {"skipped": f"{len(rows)} results, fewer than min_rows={policy.min_rows}"}
        return Outcome(run, None, None)
    x, ys = training_sets.arrays(rows)
    cut = _split(len(rows), policy.holdout_share)
    train_ys, test_ys = {t: y[:cut] for t, y in ys.items()}, {t: y[cut:] for t, y in ys.items()}
    champion = registry.load_champion(MODEL_NAME)
    champion_error = error(champion, x[cut:], test_ys)

    def evaluate(model: OnnxModel) -> dict[str, object]:
        challenger_error = error(model, x[cut:], test_ys)
        return {"holdout": holdout_metrics(model, x[cut:], test_ys), "holdout_rows": len(rows) - cut,
                "challenge": {"champion_version": champion.version, "champion_log_mae": champion_error,
                              "challenger_log_mae": challenger_error, "margin": policy.margin,
                              "champion_holdout": holdout_metrics(champion, x[cut:], test_ys),
                              "wins": challenger_error <= champion_error * (1 - policy.margin)}}  # fmt: skip

    stacked = np.column_stack([ys[t] for t in TARGETS])
    challenger = register_version(
        registry, MODEL_NAME, fit_heads(x[:cut], train_ys), task="quantile_regression", features=FEATURES,
        data=DataRef(source=f"campaign results up to {rows[cut - 1].received_at.isoformat()} ({cut} rows)",
                     sha256=data_sha256(x[:cut], stacked[:cut]), rows=cut, licence=RESULTS_LICENCE),
        evaluate=evaluate, notes=f"challenger ({trigger}); held out the {len(rows) - cut} most recent results",
        promote=False, reference_rows=x[:cut],
    )  # fmt: skip
    verdict = challenger.card.metrics["challenge"]
    run.train_rows, run.holdout_rows, run.challenger_version = cut, len(rows) - cut, challenger.version
    run.report = verdict
    promoted = None
    if verdict["wins"]:
        previous = registry.promote(MODEL_NAME, challenger.version)
        run.promoted = True
        promoted = ModelPromoted(model_name=MODEL_NAME, model_version=challenger.version,
                                 previous_version=previous, promoted_at=datetime.now(UTC))  # fmt: skip
    return Outcome(run, challenger, promoted)


def results_since_last_run(session: Session) -> int:
    last = session.exec(select(func.max(RetrainRun.started_at))).one()
    stmt = select(func.count()).select_from(ForecastOutcome)
    if last is not None:
        stmt = stmt.where(col(ForecastOutcome.received_at) > last)
    return int(session.exec(stmt).one())


def retrain(db: Database, outbox: Outbox, registry: ModelRegistry, policy: Policy, trigger: str,
            run_id: str | None = None) -> Outcome:  # fmt: skip
    """Read the point-in-time training set, run one challenge, record it and stage ModelPromoted if it won."""
    with db.transaction() as session:
        rows = training_sets.rows(session)
    outcome = challenge(registry, rows, policy, trigger, run_id)
    with db.transaction() as session:
        session.merge(outcome.run)  # replaces the claim row of an automatic run
        if outcome.promoted is not None:
            outbox.stage(session, outcome.promoted, org_id="system")
    log.info("retrained", extra={"fields": {"run": outcome.run.run_id, "report": outcome.run.report}})
    return outcome


class RetrainTrigger(threading.Thread):
    """Retrains when `every` new outcomes were scored since the last run (checked every `interval_s`)."""

    def __init__(self, db: Database, outbox: Outbox, registry: ModelRegistry, policy: Policy, every: int,
                 interval_s: float) -> None:  # fmt: skip
        super().__init__(name="retrain-trigger", daemon=True)
        self.db, self.outbox, self.registry, self.policy = db, outbox, registry, policy
        self.every, self.interval_s = every, interval_s
        self._stop_event = threading.Event()

    def check_once(self) -> Outcome | None:
        with self.db.transaction() as session:
            fresh = results_since_last_run(session)
            runs = int(session.exec(select(func.count()).select_from(RetrainRun)).one())
        if fresh < self.every:
            return None
        # Every replica runs this trigger: the run id is claimed first (primary key), so one of them trains.
        run_id = f"auto-{runs + 1:06d}"
        try:
            with self.db.transaction() as session:
                session.add(RetrainRun(run_id=run_id, model_name=MODEL_NAME, started_at=datetime.now(UTC),
                                       trigger="every_n_results", train_rows=0, holdout_rows=0,
                                       report={"claimed": "training"}))  # fmt: skip
        except IntegrityError:
            return None
        return retrain(self.db, self.outbox, self.registry, self.policy, "every_n_results", run_id)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            try:
                self.check_once()
            except Exception:
                log.exception("retraining failed; the champion keeps serving")

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
