"""Train the creator fraud-risk model and register it as a new ONNX version.

The version folder keeps the training set itself (`training_set.npz`, features and labels, hashed on the
card): a challenger retrained on reviewed anomaly labels builds on exactly these rows (retraining.py).
"""

from __future__ import annotations

import io

import numpy as np

from services.fraud.features import FEATURES, feature_matrix
from shared.events import AccountStats
from shared.metrics import classification_metrics
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, OnnxModel
from shared.retraining import fit_classifier
from shared.training import data_sha256, register_version

MODEL_NAME = "fraud_risk"
TRAINING_SET_FILE = "training_set.npz"
# The original fit's settings; a challenger uses the same ones so only its data differs.
MAX_ITER, LEARNING_RATE = 150, 0.08


def training_set_bytes(x: np.ndarray, y: np.ndarray) -> bytes:
    """Features (float32) and labels (int64) exactly as hashed on the card (shared.training.data_sha256)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.asarray(x, dtype=np.float32), y=np.asarray(y, dtype=np.int64))
    return buffer.getvalue()


def train(
    accounts: list[AccountStats],
    labels: list[bool],
    registry: ModelRegistry,
    source: str,
    licence: str,
    seed: int = 0,
) -> OnnxModel:
    """Fit on 80%, report metrics on the other 20%, register and promote."""
    from sklearn.model_selection import train_test_split

    x = feature_matrix(accounts)
    y = np.asarray(labels, dtype=np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)
    model = fit_classifier(x_tr, y_tr, max_iter=MAX_ITER, learning_rate=LEARNING_RATE, seed=seed)
    return register_version(
        registry,
        MODEL_NAME,
        {"model": model},
        task="classification",
        features=FEATURES,
        data=DataRef(source=source, sha256=data_sha256(x, y), rows=len(y), licence=licence),
        evaluate=lambda m: {"holdout": classification_metrics(y_te, m.run("model", x_te, count=False))},
        reference_rows=x_tr,
        files={TRAINING_SET_FILE: training_set_bytes(x, y)},
    )
