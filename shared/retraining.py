"""Champion/challenger retraining, one implementation for every model that learns from outcomes.

A service hands over its rows in the order their outcomes became known. The most recent share is held
out; a challenger is fitted on the older rows, both models are scored on the same held-out rows, and the
challenger becomes champion only if its loss is lower by the margin. Every challenger is kept in the
registry (card, metrics of both models, data hash, parent), promoted or not, and every round is one
`retrain_run` row in the service's own database (the same table shape in each).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
from pydantic import Field as SettingField
from pydantic_settings import BaseSettings
from sqlalchemy import JSON, Column
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, func, select

from shared.bus.outbox import Outbox
from shared.db import Database
from shared.events import ModelPromoted
from shared.metrics import classification_metrics
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, OnnxModel
from shared.training import register_version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    margin: float = 0.02  # relative loss reduction a challenger needs, so noise does not churn versions
    holdout_share: float = 0.2
    min_rows: int = 200


class RetrainSettings(BaseSettings):
    """Champion/challenger settings of a service whose model retrains from outcomes (TANDEM_<SVC>_RETRAIN_*).

    A service adds its own `retrain_every_*` count (what a new row is differs) and may change a default.
    """

    retrain_check_interval_s: float = SettingField(
        60.0, gt=0, description="How often the retrain trigger counts new outcomes."
    )
    retrain_margin: float = SettingField(
        0.02, ge=0, lt=1, description="Relative held-out loss reduction a challenger needs to be promoted."
    )
    retrain_holdout_share: float = SettingField(
        0.2,
        gt=0,
        lt=1,
        description="Most recent share of outcomes held out to compare challenger and champion.",
    )
    retrain_min_rows: int = SettingField(
        200, ge=2, description="Fewest joined outcomes worth training a challenger on."
    )

    def retrain_policy(self) -> Policy:
        return Policy(margin=self.retrain_margin, holdout_share=self.retrain_holdout_share,
                      min_rows=self.retrain_min_rows)  # fmt: skip


class RetrainRun(SQLModel, table=True):
    """One champion/challenger round: what was trained on, how both scored, and whether it was promoted."""

    __tablename__ = "retrain_run"

    run_id: str = Field(primary_key=True, max_length=64)
    model_name: str = Field(max_length=64)
    started_at: datetime = Field(index=True)
    trigger: str = Field(max_length=32, description="cli | every_n_results | every_n_outcomes | ...")
    train_rows: int
    holdout_rows: int
    champion_version: str | None = Field(default=None, max_length=32)
    challenger_version: str | None = Field(default=None, max_length=32)
    promoted: bool = False
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class NotTrainable(Exception):
    """The rows cannot train a challenger (e.g. one class only); the round is recorded as skipped."""


@dataclass(frozen=True)
class Outcome:
    run: RetrainRun
    challenger: OnnxModel | None
    promoted: ModelPromoted | None


@dataclass(frozen=True)
class Challenger:
    """A challenger fitted on the training rows, ready to be exported and registered."""

    heads: dict[str, bytes]
    task: str
    features: list[str]
    data: DataRef
    reference_rows: np.ndarray
    notes: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)  # extra card metrics (e.g. where a base set lives)


class Contest(Protocol):
    """One model's side of a round, over rows split at a cut: older rows train, the rest are held out."""

    def fit(self) -> Challenger: ...

    def loss(self, model: OnnxModel) -> float:
        """Held-out loss, lower is better (the promotion criterion)."""
        ...

    def holdout(self, model: OnnxModel) -> dict[str, Any]:
        """Held-out metrics a person reads on the card."""
        ...


@dataclass(frozen=True)
class Spec:
    """What a round is called: the model, its loss's name on the card, and what a row is (for notes)."""

    model_name: str
    loss_name: str
    unit: str


def split(n: int, share: float) -> int:
    """Index of the first held-out row: the most recent `share` of the rows, at least one."""
    return n - max(1, round(n * share))


def challenge(registry: ModelRegistry, spec: Spec, n_rows: int, contest: Callable[[int], Contest],
              policy: Policy, trigger: str, run_id: str | None = None) -> Outcome:  # fmt: skip
    """Fit, export, register and compare one challenger; promote it if it wins by the margin."""
    run = RetrainRun(run_id=run_id or f"rt-{uuid.uuid4().hex[:12]}", model_name=spec.model_name,
                     started_at=datetime.now(UTC), trigger=trigger, train_rows=0, holdout_rows=0,
                     champion_version=registry.champion_version(spec.model_name))  # fmt: skip
    if n_rows < policy.min_rows:
        run.report = {"skipped": f"{n_rows} {spec.unit}, fewer than min_rows={policy.min_rows}"}
        return Outcome(run, None, None)
    cut = split(n_rows, policy.holdout_share)
    round_ = contest(cut)
    champion = registry.load_champion(spec.model_name)
    champion_loss = round_.loss(champion)
    try:
        fitted = round_.fit()
    except NotTrainable as exc:
        run.report = {"skipped": str(exc)}
        return Outcome(run, None, None)

    def evaluate(model: OnnxModel) -> dict[str, object]:
        challenger_loss = round_.loss(model)
        return {"holdout": round_.holdout(model), "holdout_rows": n_rows - cut, **fitted.metrics,
                "challenge": {"champion_version": champion.version, f"champion_{spec.loss_name}": champion_loss,
                              f"challenger_{spec.loss_name}": challenger_loss, "margin": policy.margin,
                              "champion_holdout": round_.holdout(champion),
                              "wins": challenger_loss <= champion_loss * (1 - policy.margin)}}  # fmt: skip

    notes = f"challenger ({trigger}); held out the {n_rows - cut} most recent {spec.unit}"
    challenger = register_version(
        registry, spec.model_name, fitted.heads, task=fitted.task, features=fitted.features, data=fitted.data,
        evaluate=evaluate, notes=f"{notes}; {fitted.notes}" if fitted.notes else notes, promote=False,
        reference_rows=fitted.reference_rows,
    )  # fmt: skip
    verdict = challenger.card.metrics["challenge"]
    run.train_rows, run.holdout_rows, run.challenger_version = cut, n_rows - cut, challenger.version
    run.report = verdict
    promoted = None
    if verdict["wins"]:
        previous = registry.promote(spec.model_name, challenger.version)
        run.promoted = True
        promoted = ModelPromoted(model_name=spec.model_name, model_version=challenger.version,
                                 previous_version=previous, promoted_at=datetime.now(UTC))  # fmt: skip
    return Outcome(run, challenger, promoted)


def record(db: Database, outbox: Outbox, outcome: Outcome) -> Outcome:
    """Store the round and stage ModelPromoted (published after commit by the outbox relay) if it won."""
    with db.transaction() as session:
        session.merge(outcome.run)  # replaces the claim row of an automatic run
        if outcome.promoted is not None:
            outbox.stage(session, outcome.promoted, org_id="system")
    log.info("retrained", extra={"fields": {"run": outcome.run.run_id, "report": outcome.run.report}})
    return outcome


def last_run_at(session: Session, model_name: str) -> datetime | None:
    stmt = select(func.max(RetrainRun.started_at)).where(RetrainRun.model_name == model_name)
    last: datetime | None = session.exec(stmt).one()
    return last


def count_since(session: Session, stamp: Any, last: datetime | None, *where: Any) -> int:
    """Rows whose `stamp` column is after `last` (all rows when there was no run yet), within `where`."""
    stmt = select(func.count()).select_from(stamp.class_).where(*where)
    if last is not None:
        stmt = stmt.where(stamp > last)
    return int(session.exec(stmt).one())


class RetrainTrigger(threading.Thread):
    """Retrains when `every` new rows arrived since the model's last run (checked every `interval_s`).

    `fresh(session, last_run_at)` counts the new rows; `retrain(trigger, run_id)` runs and records a round.
    """

    def __init__(self, db: Database, model_name: str, fresh: Callable[[Session, datetime | None], int],
                 retrain: Callable[[str, str], Outcome], every: int, interval_s: float,
                 trigger: str = "every_n_results") -> None:  # fmt: skip
        super().__init__(name=f"retrain-trigger-{model_name}", daemon=True)
        self.db, self.model_name, self.fresh, self.retrain = db, model_name, fresh, retrain
        self.every, self.interval_s, self.trigger = every, interval_s, trigger
        self._stop_event = threading.Event()

    def check_once(self) -> Outcome | None:
        with self.db.transaction() as session:
            fresh = self.fresh(session, last_run_at(session, self.model_name))
            stmt = (
                select(func.count()).select_from(RetrainRun).where(RetrainRun.model_name == self.model_name)
            )
            runs = int(session.exec(stmt).one())
        if fresh < self.every:
            return None
        # Every replica runs this trigger: the run id is claimed first (primary key), so one of them trains.
        run_id = f"auto-{self.model_name}-{runs + 1:06d}"
        try:
            with self.db.transaction() as session:
                session.add(RetrainRun(run_id=run_id, model_name=self.model_name, started_at=datetime.now(UTC),
                                       trigger=self.trigger, train_rows=0, holdout_rows=0,
                                       report={"claimed": "training"}))  # fmt: skip
        except IntegrityError:
            return None
        return self.retrain(self.trigger, run_id)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            try:
                self.check_once()
            except Exception:
                log.exception("retraining failed; the champion keeps serving")

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


# --- binary classifiers (ranking, fraud risk): the loss and metrics both compare on ----------------------


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Mean binary cross-entropy; probabilities are clipped so one confident miss cannot make it infinite."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    t = np.asarray(y, dtype=np.float64)
    return round(float(-np.mean(t * np.log(q) + (1 - t) * np.log(1 - q))), 5)


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Log loss and base rate always; accuracy, precision, recall, F1 and ROC AUC when both classes occur."""
    out: dict[str, Any] = {"log_loss": log_loss(y, p), "positive_rate": round(float(np.mean(y)), 4)}
    if 0 < int(np.sum(y)) < len(y):
        out.update(classification_metrics(y, p))
    else:
        out["rows"] = len(y)  # one class only: ranking metrics are undefined, say so by leaving them out
    return out


@dataclass(frozen=True)
class ClassifierHoldout:
    """The held-out rows of a binary classifier (head `model`, class-1 probability)."""

    x: np.ndarray
    y: np.ndarray

    def proba(self, model: OnnxModel) -> np.ndarray:
        return model.run("model", self.x, count=False)

    def loss(self, model: OnnxModel) -> float:
        return log_loss(self.y, self.proba(model))

    def holdout(self, model: OnnxModel) -> dict[str, Any]:
        return binary_metrics(self.y, self.proba(model))


def fit_classifier(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None, *, max_iter: int = 200,
                   max_depth: int = 5, learning_rate: float = 0.06, seed: int = 0) -> bytes:  # fmt: skip
    """A HistGradientBoosting classifier as ONNX (scikit-learn is imported only here, for training)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    from shared.training import to_onnx_bytes

    if len(np.unique(y)) < 2:
        raise NotTrainable(f"all {len(y)} training rows have the same label")
    # scikit-learn's binning fails on a column with no value at all (e.g. no creator fraud-scored yet).
    # A constant there is equivalent: a tree never splits on it, so NaN at serving time changes nothing.
    x = np.where(np.isnan(x).all(axis=0), np.float32(0.0), x)
    clf = HistGradientBoostingClassifier(
        max_iter=max_iter, max_depth=max_depth, learning_rate=learning_rate, random_state=seed
    )
    # One OpenMP thread, as for the forecast heads: on a few thousand rows the thread pool costs more than
    # it gains on a machine whose cores also serve requests.
    with threadpool_limits(1):
        clf.fit(x, y, sample_weight=sample_weight)
    return to_onnx_bytes(clf, x.shape[1])
