"""Feature drift: the population stability index (PSI) of live inputs against the training data.

A model's card keeps, per feature, the training data's decile edges; every scored batch is counted
into the same bins, and PSI compares the two distributions. Rule of thumb (used by credit-risk teams
since the 1990s): < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 a shift worth acting on.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

ALERT_PSI = 0.25
MIN_ROWS = 500  # below this the live histogram is too noisy to call drift
_EPS = 1e-4


def reference(x: np.ndarray, features: list[str], bins: int = 10) -> dict[str, Any]:
    """Decile edges and bin proportions of the training matrix (NaN counted in its own bin)."""
    out: dict[str, Any] = {}
    for j, name in enumerate(features):
        col = x[:, j].astype(np.float64)
        finite = col[np.isfinite(col)]
        edges = (
            np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])) if finite.size else np.array([])
        )
        out[name] = {"edges": edges.tolist(), "proportions": _proportions(col, edges).tolist()}
    return out


def _counts(col: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in len(edges)+1 value bins followed by one NaN bin."""
    finite = np.isfinite(col)
    idx = np.searchsorted(edges, col[finite], side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)
    return np.append(counts, float((~finite).sum()))


def _proportions(col: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = _counts(col, edges)
    return counts / max(counts.sum(), 1.0)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.clip(np.asarray(expected, dtype=np.float64), _EPS, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


class DriftWindow:
    """Counts of live inputs per feature bin since the window was last reset; thread-safe."""

    def __init__(self, ref: dict[str, Any], features: list[str]) -> None:
        self.features = features
        self._edges = [np.asarray(ref[f]["edges"], dtype=np.float64) for f in features]
        self._expected = [np.asarray(ref[f]["proportions"], dtype=np.float64) for f in features]
        self._counts = [np.zeros(len(e) + 2) for e in self._edges]
        self.rows = 0
        self._pending: list[np.ndarray] = []
        self._pending_rows = 0
        self._lock = threading.Lock()

    def observe(self, x: np.ndarray) -> None:
        """Buffer the rows; binning happens per ~1k rows, so single-row scoring pays about a microsecond."""
        with self._lock:
            self._pending.append(x)
            self._pending_rows += len(x)
            self.rows += len(x)
            if self._pending_rows < 1024:
                return
            batch, self._pending, self._pending_rows = self._pending, [], 0
        self._count(np.concatenate(batch))

    def _count(self, x: np.ndarray) -> None:
        add = [_counts(x[:, j].astype(np.float64), e) for j, e in enumerate(self._edges)]
        with self._lock:
            for total, a in zip(self._counts, add, strict=True):
                total += a

    def psi_by_feature(self) -> dict[str, float]:
        with self._lock:
            batch, self._pending, self._pending_rows = self._pending, [], 0
        if batch:
            self._count(np.concatenate(batch))
        with self._lock:
            counts = [c.copy() for c in self._counts]
        return {
            f: psi(exp, c / max(c.sum(), 1.0))
            for f, exp, c in zip(self.features, self._expected, counts, strict=True)
        }

    def drifted(self, threshold: float = ALERT_PSI) -> dict[str, float]:
        """Features whose PSI is above the threshold, once enough rows were seen."""
        if self.rows < MIN_ROWS:
            return {}
        return {f: v for f, v in self.psi_by_feature().items() if v > threshold}
