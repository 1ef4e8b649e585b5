"""Champion/challenger retraining of the fraud risk model on people's verdicts on anomalies.

The round is `shared.retraining`: the most recent share of labelled rows (training_sets.py) is held out,
a challenger is fitted on the rest, both models are compared on the same held-out labels by log loss, and
the challenger is promoted only if it is better by the margin.

What the challenger trains on: the champion's base training set plus the older labelled rows. The base
set is the `training_set.npz` kept in the version folder that first trained on it (for the shipped model,
the generated demo world; its hash is on that card and checked on load); a challenger's card records
which version's base set it used under `metrics.base_set` and names it in `training_data.source`, so the
base is never counted twice when a retrained champion is challenged again, and labels always come fresh
from the database. Each labelled row weighs `label_weight` base rows (default 20): a verdict a person
gave on a real account says more about this installation's creators than a generated one, and without
a weight a few hundred labels would vanish among 20,000 base rows. A champion without a stored base set
is challenged by a model trained on the labels alone (the card says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session, col

from services.fraud import training_sets
from services.fraud.features import FEATURES
from services.fraud.models import AnomalyLabel
from services.fraud.training import LEARNING_RATE, MAX_ITER, MODEL_NAME, TRAINING_SET_FILE
from shared import retraining as shared
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.model_registry import ModelRegistry
from shared.onnx_model import CARD_FILE, DataRef, ModelCard, OnnxModel
from shared.retraining import Outcome, Policy
from shared.training import data_sha256

LABELS_LICENCE = (
    "anomaly verdicts given by this Tandem installation's reviewers (the organisations' own data)"
)
SPEC = shared.Spec(model_name=MODEL_NAME, loss_name="log_loss", unit="labels")
TRIGGER = "every_n_labels"


@dataclass(frozen=True)
class BaseSet:
    """The rows a champion was originally trained on, before any label, and where they live."""

    x: np.ndarray
    y: np.ndarray
    version: str
    sha256: str
    source: str
    licence: str


def base_set(registry: ModelRegistry, champion: OnnxModel) -> BaseSet | None:
    """The champion's base set (its own, or the one its card points to); None if none was kept."""
    ref = champion.card.metrics.get("base_set")
    version = str(ref["version"]) if isinstance(ref, dict) else champion.version
    folder = registry.root / MODEL_NAME / version
    if not (folder / TRAINING_SET_FILE).exists():
        return None
    card = ModelCard.model_validate_json((folder / CARD_FILE).read_text())
    with np.load(folder / TRAINING_SET_FILE) as data:
        x, y = data["x"], data["y"]
    sha = data_sha256(x, y)
    if sha != card.training_data.sha256:  # a file that is not what the card describes must not train
        raise ValueError(f"{MODEL_NAME} v{version}: {TRAINING_SET_FILE} does not match its card's data hash")
    data_ref = card.training_data
    return BaseSet(x=x, y=y, version=version, sha256=sha, source=data_ref.source, licence=data_ref.licence)


class FraudContest:
    """Labelled rows in the order of their verdicts, split at `cut`; the challenger adds the base set."""

    def __init__(self, rows: list[training_sets.TrainingRow], cut: int, base: BaseSet | None,
                 label_weight: float) -> None:  # fmt: skip
        self.rows, self.cut, self.base, self.label_weight = rows, cut, base, label_weight
        self.x, self.y = training_sets.arrays(rows)
        self.test = shared.ClassifierHoldout(self.x[cut:], self.y[cut:])

    def training_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Base rows (weight 1) then the older labelled rows (weight `label_weight`)."""
        lx, ly = self.x[: self.cut], self.y[: self.cut]
        labelled = np.full(len(ly), self.label_weight)
        if self.base is None:
            return lx, ly, labelled
        weights = np.concatenate([np.ones(len(self.base.y)), labelled])
        return np.vstack([self.base.x, lx]), np.concatenate([self.base.y, ly]), weights

    def fit(self) -> shared.Challenger:
        x, y, w = self.training_data()
        labels = f"{self.cut} reviewed anomaly labels up to {self.rows[self.cut - 1].reviewed_at.isoformat()}"
        if self.base is None:
            source, licence, metrics = f"{labels} only (the champion kept no base set)", LABELS_LICENCE, {}
        else:
            b = self.base
            source = f"base set of {MODEL_NAME} v{b.version} ({b.source}, {len(b.y)} rows) + {labels}"
            licence = f"{b.licence}; labels: {LABELS_LICENCE}"
            metrics = {"base_set": {"version": b.version, "sha256": b.sha256, "rows": len(b.y)}}
        heads = {"model": shared.fit_classifier(x, y, w, max_iter=MAX_ITER, learning_rate=LEARNING_RATE)}
        return shared.Challenger(
            heads=heads, task="classification", features=FEATURES, reference_rows=x,
            data=DataRef(source=source, sha256=data_sha256(x, y, w), rows=len(y), licence=licence),
            notes=f"labelled rows weigh {self.label_weight:g} base rows", metrics={**metrics, "label_weight": self.label_weight},
        )  # fmt: skip

    def loss(self, model: OnnxModel) -> float:
        return self.test.loss(model)

    def holdout(self, model: OnnxModel) -> dict[str, Any]:
        return self.test.holdout(model)


def challenge(registry: ModelRegistry, rows: list[training_sets.TrainingRow], policy: Policy, trigger: str,
              label_weight: float = 20.0, run_id: str | None = None) -> Outcome:  # fmt: skip
    base = base_set(registry, registry.load_champion(MODEL_NAME))

    def contest(cut: int) -> FraudContest:
        return FraudContest(rows, cut, base, label_weight)

    return shared.challenge(registry, SPEC, len(rows), contest, policy, trigger, run_id)


def labels_since(session: Session, last: datetime | None) -> int:
    """New verdicts on creator-level anomalies (the ones that become training rows)."""
    kinds = col(AnomalyLabel.kind).in_(training_sets.CREATOR_KINDS)
    return shared.count_since(session, AnomalyLabel.reviewed_at, last, kinds)


def retrain(db: Database, outbox: Outbox, registry: ModelRegistry, policy: Policy, trigger: str,
            label_weight: float = 20.0, run_id: str | None = None) -> Outcome:  # fmt: skip
    """Read the point-in-time rows, run one round, record it and stage ModelPromoted if the challenger won."""
    with db.transaction() as session:
        rows = training_sets.rows(session)
    return shared.record(db, outbox, challenge(registry, rows, policy, trigger, label_weight, run_id))


def trigger(db: Database, outbox: Outbox, registry: ModelRegistry, policy: Policy, label_weight: float,
            every: int, interval_s: float) -> shared.RetrainTrigger:  # fmt: skip
    """A thread that retrains after every `every` new creator-level labels (checked every `interval_s`)."""

    def run(why: str, run_id: str) -> Outcome:
        return retrain(db, outbox, registry, policy, why, label_weight, run_id)

    return shared.RetrainTrigger(db, MODEL_NAME, labels_since, run, every, interval_s, trigger=TRIGGER)
