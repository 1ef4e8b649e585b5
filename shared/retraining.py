"""Champion/challenger retraining, one implementation for every model that learns from outcomes.

A service hands over its rows in the order their outcomes became known. The most recent share is held
out; a challenger is fitted on the older rows, both models are scored on the same held-out rows, and the
challenger becomes champion only if its loss is lower by the margin and, for a model with intervals, its
80% intervals cover 75-85% of the held-out rows in every segment (the verdict names the failed check).
Every challenger is kept in the registry (card, metrics of both models, data hash, parent), promoted or
not, and every round is one `retrain_run` row in the service's own database (the same table shape in each).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

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
    # An 80% interval people plan with must hold 75-85% of held-out results in every segment: a version
    # covering 55-60% once went live on error alone. A segment of 80 results has a binomial sd of ~4.5
    # points, so a well-calibrated one would fail a literal band often: a segment fails when its 95%
    # Wilson interval lies wholly outside the band (55% of 96 fails; 73% of 78 does not). Segments below
    # `min_segment_rows` are judged pooled as "other".
    coverage_band: tuple[float, float] = (0.75, 0.85)
    min_segment_rows: int = 50


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


@runtime_checkable
class IntervalContest(Protocol):
    """A contest whose model gives 80% intervals: their held-out coverage gates promotion too."""

    def coverage(self, model: OnnxModel) -> dict[str, tuple[int, int]]:
        """Per segment (e.g. `instagram/reach`): held-out rows inside the 80% interval, and rows."""
        ...


def pool_small(counts: dict[str, tuple[int, int]], min_rows: int) -> dict[str, tuple[int, int]]:
    """Segments with fewer than `min_rows` rows merged into `other` (per target, after the slash)."""
    out: dict[str, tuple[int, int]] = {}
    for name, (inside, rows) in counts.items():
        key = name if rows >= min_rows else f"other/{name.split('/', 1)[-1]}" if "/" in name else "other"
        have = out.get(key, (0, 0))
        out[key] = (have[0] + inside, have[1] + rows)
    return out


def wilson(inside: int, rows: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a share (sound near 0 and 1 and on small counts, unlike p +- 2 sd)."""
    p = inside / rows
    centre = (p + z * z / (2 * rows)) / (1 + z * z / rows)
    half = z * np.sqrt(p * (1 - p) / rows + z * z / (4 * rows * rows)) / (1 + z * z / rows)
    return round(float(centre - half), 4), round(float(centre + half), 4)


def coverage_check(counts: dict[str, tuple[int, int]], policy: Policy) -> dict[str, Any]:
    """Each segment with enough rows must not be clearly outside the band; smaller ones are not judged."""
    low, high = policy.coverage_band
    segments: dict[str, Any] = {}
    failed: list[str] = []
    for name, (inside, rows) in sorted(pool_small(counts, policy.min_segment_rows).items()):
        if rows == 0:
            continue
        lo, hi = wilson(inside, rows)
        judged = rows >= policy.min_segment_rows
        ok = not judged or (hi >= low and lo <= high)
        segments[name] = {"coverage80": round(inside / rows, 4), "interval95": [lo, hi], "rows": rows,
                          "judged": judged, "passed": ok}  # fmt: skip
        if not ok:
            failed.append(f"{name} {inside / rows:.0%} (95% CI {lo:.0%}-{hi:.0%}, {rows} results)")
    return {"band": [low, high], "segments": segments, "passed": not failed, "failed": failed}


def judge(champion_loss: float, challenger_loss: float, loss_name: str, policy: Policy,
            coverage: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """Both checks and, in words, which failed: a challenger must win on error AND keep its intervals honest."""
    better = challenger_loss <= champion_loss * (1 - policy.margin)
    reasons = [] if better else [
        f"{loss_name} {challenger_loss:g} is not {policy.margin:.0%} below the champion's {champion_loss:g}"
    ]  # fmt: skip
    if coverage is not None and not coverage["passed"]:
        low, high = coverage["band"]
        reasons.append(
            f"80% interval coverage outside {low:.0%}-{high:.0%} on {', '.join(coverage['failed'])}"
        )
    checks: dict[str, Any] = {"error": {"passed": better}}
    if coverage is not None:
        checks["coverage80"] = coverage
    wins = not reasons
    return {
        "wins": wins,
        "checks": checks,
        "verdict": "promote" if wins else "refused: " + "; ".join(reasons),
    }


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
        coverage = (
            coverage_check(round_.coverage(model), policy) if isinstance(round_, IntervalContest) else None
        )
        judged = judge(champion_loss, challenger_loss, spec.loss_name, policy, coverage)
        return {"holdout": round_.holdout(model), "holdout_rows": n_rows - cut, **fitted.metrics,
                "challenge": {"champion_version": champion.version, f"champion_{spec.loss_name}": champion_loss,
                              f"challenger_{spec.loss_name}": challenger_loss, "margin": policy.margin,
                              "champion_holdout": round_.holdout(champion), **judged}}  # fmt: skip

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
