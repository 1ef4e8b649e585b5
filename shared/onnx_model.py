"""ONNX models: load a versioned model with its card, warm it up, score batches on onnxruntime."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from pydantic import BaseModel, ConfigDict, Field

from shared.drift import DriftWindow
from shared.observability import MODEL_SCORES

CARD_FILE = "card.json"


class DataRef(BaseModel):
    """Where a model's training data came from, so its numbers can be traced and re-made."""

    source: str
    sha256: str
    rows: int
    licence: str


class ModelCard(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    version: str
    task: str = Field(description="classification | regression | quantile_regression")
    features: list[str]
    heads: dict[str, str] = Field(description="head name -> ONNX file in the version folder")
    trained_at: str
    training_data: DataRef
    metrics: dict[str, Any] = Field(default_factory=dict)
    parent_version: str | None = None
    notes: str = ""
    drift_reference: dict[str, Any] | None = Field(
        default=None, description="Per-feature decile edges and proportions of the training data (PSI)."
    )


def _session(path: Path | bytes) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    # One intra-op thread: ORT's default pool spins and steals CPU from the web server (performance.md).
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    source = path if isinstance(path, bytes) else str(path)
    return ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])


def run_head(head: bytes, rows: np.ndarray) -> np.ndarray:
    """A regressor head not yet registered (e.g. during training), scored as the services will score it."""
    session = _session(head)
    x = np.ascontiguousarray(rows, dtype=np.float32)
    return np.asarray(session.run(None, {session.get_inputs()[0].name: x})[0]).reshape(-1)


class OnnxModel:
    """One model version: its card and one InferenceSession per head (e.g. p10/p50/p90)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.card = ModelCard.model_validate_json((folder / CARD_FILE).read_text())
        self._sessions = {head: _session(folder / file) for head, file in self.card.heads.items()}
        self._inputs = {head: s.get_inputs()[0].name for head, s in self._sessions.items()}
        ref = self.card.drift_reference
        self.drift = DriftWindow(ref, self.features) if ref else None
        self.warm_up()

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def version(self) -> str:
        return self.card.version

    @property
    def features(self) -> list[str]:
        return self.card.features

    def warm_up(self) -> None:
        """Score a row of zeros on every head so the first real request pays no set-up cost."""
        zeros = np.zeros((1, len(self.features)), dtype=np.float32)
        for head in self._sessions:
            self.run(head, zeros, count=False)

    def observe(self, head: str, x: np.ndarray) -> None:
        """Count rows as scored and feed drift; explanation variants run uncounted and call this for the
        real rows only, so they neither inflate the count nor look like drift."""
        MODEL_SCORES.labels(self.name, self.version).inc(len(x))
        if self.drift is not None and head == next(iter(self._sessions)):
            self.drift.observe(x)

    def run(self, head: str, rows: np.ndarray, count: bool = True) -> np.ndarray:
        """Raw scores of one head: class-1 probability for classifiers, the value for regressors."""
        x = np.ascontiguousarray(rows, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != len(self.features):
            raise ValueError(f"{self.name} expects [N, {len(self.features)}] features, got {list(x.shape)}")
        session = self._sessions[head]
        outputs = session.run(None, {self._inputs[head]: x})
        if count:
            self.observe(head, x)
        if len(outputs) == 2:  # classifier: (label, probabilities[N, C])
            return np.asarray(outputs[1])[:, -1]
        return np.asarray(outputs[0]).reshape(-1)


class ModelSlot:
    """Holds the serving version of one model; a new version is loaded and warmed before it replaces the old."""

    def __init__(self, model: OnnxModel) -> None:
        self._model = model
        self._lock = threading.Lock()

    @property
    def current(self) -> OnnxModel:
        return self._model

    def swap(self, folder: Path) -> OnnxModel:
        new = OnnxModel(folder)  # loads and warms up outside the lock: requests keep using the old one
        with self._lock:
            old, self._model = self._model, new
        return old


def write_card(folder: Path, card: ModelCard) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CARD_FILE).write_text(json.dumps(card.model_dump(), indent=2, sort_keys=False) + "\n")
