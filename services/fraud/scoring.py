"""Risk score, level and reasons for creators, the reasons taken from the fraud model itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.fraud.explanations import confidence, contributions, explain_all, reference_rows
from services.fraud.features import feature_matrix
from shared.events import AccountStats, Reason
from shared.onnx_model import OnnxModel
from shared.vocabulary import RiskLevel


# One per streamed event: with slots, a frozen dataclass is ~40% cheaper to build.
@dataclass(frozen=True, slots=True)
class Assessment:
    risk: float
    level: RiskLevel
    reasons: list[Reason]
    model_name: str
    model_version: str
    confidence: float = 1.0


def risk_level(risk: float, medium_from: float, high_from: float) -> RiskLevel:
    if risk >= high_from:
        return "high"
    return "medium" if risk >= medium_from else "low"


def score_with_variants(model: OnnxModel, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's risk and its per-group contributions, from ONE model call over rows and variants."""
    both = np.concatenate([x, reference_rows(x)])
    out = model.run("model", both, count=False)
    risks = out[: len(x)]
    model.observe("model", x)
    return risks, contributions(risks, out[len(x) :])


def assess(
    model: OnnxModel, accounts: list[AccountStats], medium_from: float, high_from: float
) -> list[Assessment]:
    """Score accounts in one batch and explain each score by what moved it."""
    if not accounts:
        return []
    risks, moved = score_with_variants(model, feature_matrix(accounts))
    name, version = model.name, model.version
    return [
        Assessment(round(r, 4), risk_level(r, medium_from, high_from), why, name, version, confidence(why))
        # Plain floats: a numpy scalar per row costs more than the conversion of the whole array.
        for r, why in zip(risks.tolist(), explain_all(accounts, risks, moved), strict=True)
    ]
