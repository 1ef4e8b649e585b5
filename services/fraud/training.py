"""Train the creator fraud-risk model and register it as a new ONNX version."""

from __future__ import annotations

import numpy as np

from services.fraud.features import FEATURES, feature_matrix
from shared.events import AccountStats
from shared.metrics import classification_metrics
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, OnnxModel
from shared.training import data_sha256, register_version, to_onnx_bytes

MODEL_NAME = "fraud_risk"


def train(
    accounts: list[AccountStats],
    labels: list[bool],
    registry: ModelRegistry,
    source: str,
    licence: str,
    seed: int = 0,
) -> OnnxModel:
    """Fit on 80%, report metrics on the other 20%, register and promote."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    x = feature_matrix(accounts)
    y = np.asarray(labels, dtype=int)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)
    clf = HistGradientBoostingClassifier(max_iter=150, max_depth=5, learning_rate=0.08, random_state=seed)
    clf.fit(x_tr, y_tr)
    return register_version(
        registry,
        MODEL_NAME,
        {"model": to_onnx_bytes(clf, len(FEATURES))},
        task="classification",
        features=FEATURES,
        data=DataRef(source=source, sha256=data_sha256(x, y), rows=len(y), licence=licence),
        evaluate=lambda m: {"holdout": classification_metrics(y_te, m.run("model", x_te, count=False))},
        reference_rows=x_tr,
    )
