"""Offline training plumbing: export scikit-learn models to ONNX and register them with a card.

scikit-learn and skl2onnx are imported lazily: services that only score never need them installed.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from shared import drift
from shared.model_registry import ModelRegistry
from shared.onnx_model import DataRef, ModelCard, OnnxModel, write_card


def to_onnx_bytes(estimator: Any, n_features: int) -> bytes:
    """Convert a fitted scikit-learn estimator (trees, pipelines) to ONNX with plain tensor outputs."""
    from skl2onnx import to_onnx

    sample = np.zeros((1, n_features), dtype=np.float32)
    is_classifier = hasattr(estimator, "predict_proba")
    options = {"zipmap": False} if is_classifier else None
    onx = to_onnx(estimator, sample, options=options, target_opset=17)
    return bytes(onx.SerializeToString())


def data_sha256(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def register_version(
    registry: ModelRegistry,
    name: str,
    heads: dict[str, bytes],
    *,
    task: str,
    features: list[str],
    data: DataRef,
    evaluate: Callable[[OnnxModel], dict[str, Any]],
    notes: str = "",
    promote: bool = True,
    reference_rows: np.ndarray | None = None,
    files: dict[str, bytes] | None = None,
) -> OnnxModel:
    """Write a new version folder (ONNX heads + card) and optionally make it champion.

    `evaluate` scores held-out data with the exported graph itself, so the card's metrics are those of
    exactly what the services will serve. `files` are kept in the version folder next to the heads (e.g. the
    training set a later challenger builds on), written before the version can be promoted.
    """
    version = registry.next_version(name)
    folder = registry.root / name / version
    folder.mkdir(parents=True)
    for head, blob in heads.items():
        (folder / f"{head}.onnx").write_bytes(blob)
    for file, blob in (files or {}).items():
        (folder / file).write_bytes(blob)
    parent = None
    with contextlib.suppress(LookupError):
        parent = registry.champion_version(name)
    card = ModelCard(
        name=name,
        version=version,
        task=task,
        features=features,
        heads={head: f"{head}.onnx" for head in heads},
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        training_data=data,
        metrics={},
        parent_version=parent,
        notes=notes,
        drift_reference=drift.reference(reference_rows, features) if reference_rows is not None else None,
    )
    write_card(folder, card)
    model = OnnxModel(folder)  # refuse to register a version that does not load
    model.card.metrics = evaluate(model)
    write_card(folder, model.card)
    if promote:
        registry.promote(name, version)
    return model
