"""Champion/challenger retraining of the ranking model on the outcomes of our own shortlists.

The round is `shared.retraining`: the most recent share of outcomes is held out, a challenger is fitted on
the older ones, both models are compared on the same held-out outcomes by log loss (the card adds ROC AUC
and precision@5 per campaign), and the challenger is promoted only if it is better by the margin.

The challenger learns from this installation's outcomes only, not mixed with the champion's original
training data: that data describes the generated demo world, and mixing it in would hide exactly the
market dynamics the outcomes are meant to teach. With few outcomes the challenger is noisy and the margin
on held-out outcomes keeps the champion serving; `min_rows` sets how many are worth a try.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from services.discovery import training_sets
from services.discovery.features import FEATURES
from services.discovery.models import RankingOutcome
from services.discovery.training import MODEL_NAME, precision_at_k
from shared import retraining as shared
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, OnnxModel
from shared.retraining import Outcome, Policy
from shared.training import data_sha256

OUTCOMES_LICENCE = "campaign outcomes reported to this Tandem installation (the organisations' own data)"
SPEC = shared.Spec(model_name=MODEL_NAME, loss_name="log_loss", unit="outcomes")
TRIGGER = "every_n_outcomes"


class RankingContest:
    """Outcomes in the order they arrived, split at `cut`; features as scored at shortlist time."""

    def __init__(self, rows: list[training_sets.TrainingRow], cut: int) -> None:
        self.rows, self.cut = rows, cut
        self.x, self.y, self.groups = training_sets.arrays(rows)
        self.test = shared.ClassifierHoldout(self.x[cut:], self.y[cut:])

    def fit(self) -> shared.Challenger:
        x, y = self.x[: self.cut], self.y[: self.cut]
        last = self.rows[self.cut - 1].recorded_at.isoformat()
        source = (
            f"ranking outcomes up to {last} ({self.cut} shortlisted collaborations, features as scored then)"
        )
        return shared.Challenger(
            heads={"model": shared.fit_classifier(x, y)}, task="classification", features=FEATURES,
            data=DataRef(source=source, sha256=data_sha256(x, y), rows=self.cut, licence=OUTCOMES_LICENCE),
            reference_rows=x, notes="trained on this installation's outcomes only",
        )  # fmt: skip

    def loss(self, model: OnnxModel) -> float:
        return self.test.loss(model)

    def holdout(self, model: OnnxModel) -> dict[str, Any]:
        p = self.test.proba(model)
        return {**shared.binary_metrics(self.test.y, p), "precision_at_5": precision_at_k(self.groups[self.cut :], self.test.y, p)}  # fmt: skip


def challenge(registry: ModelRegistry, rows: list[training_sets.TrainingRow], policy: Policy, trigger: str,
              run_id: str | None = None) -> Outcome:  # fmt: skip
    return shared.challenge(registry, SPEC, len(rows), lambda cut: RankingContest(rows, cut), policy, trigger, run_id)  # fmt: skip


def outcomes_since(session: Session, last: datetime | None) -> int:
    return shared.count_since(session, RankingOutcome.recorded_at, last)


def retrain(db: Database, outbox: Outbox, registry: ModelRegistry, policy: Policy, trigger: str,
            run_id: str | None = None) -> Outcome:  # fmt: skip
    """Read the point-in-time rows, run one round, record it and stage ModelPromoted if the challenger won."""
    with db.transaction() as session:
        rows = training_sets.rows(session)
    return shared.record(db, outbox, challenge(registry, rows, policy, trigger, run_id))


def trigger(db: Database, outbox: Outbox, registry: ModelRegistry, policy: Policy, every: int,
            interval_s: float) -> shared.RetrainTrigger:  # fmt: skip
    """A thread that retrains after every `every` new outcomes (checked every `interval_s`)."""

    def run(why: str, run_id: str) -> Outcome:
        return retrain(db, outbox, registry, policy, why, run_id)

    return shared.RetrainTrigger(db, MODEL_NAME, outcomes_since, run, every, interval_s, trigger=TRIGGER)
