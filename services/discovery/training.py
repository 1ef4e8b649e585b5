"""Train the brief-matching ranking model on past campaign outcomes and register it as ONNX."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.discovery.features import FEATURES, feature_matrix, feature_row, fit
from services.discovery.schemas import BriefIn, CreatorIn
from shared.metrics import classification_metrics
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, OnnxModel
from shared.retraining import fit_classifier
from shared.training import data_sha256, register_version

MODEL_NAME = "ranking"
TRAINING_SHORTLIST_SIZE = 20


@dataclass(frozen=True)
class Outcome:
    """One past collaboration: the brief, the creator as they were, their fraud risk then, and success."""

    brief: BriefIn
    creator: CreatorIn
    fraud_risk: float | None
    success: bool


def training_matrix(outcomes: list[Outcome]) -> tuple[np.ndarray, np.ndarray]:
    rows = [
        feature_row(o.brief, fit(o.brief, o.creator, TRAINING_SHORTLIST_SIZE), o.fraud_risk) for o in outcomes
    ]
    return feature_matrix(rows), np.array([o.success for o in outcomes], dtype=int)


def precision_at_k(groups: np.ndarray, y: np.ndarray, score: np.ndarray, k: int = 5) -> float:
    """Share of successes among each campaign's top-k by score, averaged over campaigns."""
    hits = []
    for g in np.unique(groups):
        idx = np.where(groups == g)[0]
        top = idx[np.argsort(-score[idx])][:k]
        hits.append(y[top].mean())
    return round(float(np.mean(hits)), 4)


def train(
    outcomes: list[Outcome], groups: list[int], registry: ModelRegistry, source: str, licence: str
) -> OnnxModel:
    """Fit on 80% of campaigns, evaluate on the other 20% (whole campaigns held out), register and promote."""
    x, y = training_matrix(outcomes)
    g = np.asarray(groups)
    test = g % 5 == 0
    model = fit_classifier(x[~test], y[~test])
    base_rate = round(float(y[test].mean()), 4)

    def evaluate(model: OnnxModel) -> dict[str, object]:
        p = model.run("model", x[test], count=False)
        return {
            "holdout": classification_metrics(y[test], p),
            "precision_at_5": precision_at_k(g[test], y[test], p),
            "success_base_rate": base_rate,
        }

    return register_version(
        registry,
        MODEL_NAME,
        {"model": model},
        task="classification",
        features=FEATURES,
        data=DataRef(source=source, sha256=data_sha256(x, y), rows=len(y), licence=licence),
        evaluate=evaluate,
        reference_rows=x[~test],
    )
