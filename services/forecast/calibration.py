"""Calibrated 80% intervals for the forecast heads: conformalised quantile regression, per platform.

Quantile trees fitted on a few thousand results under-cover (55-70% of held-out results inside a nominal
80% interval, measured in tests/feedback/test_retraining.py), and promotion now refuses such a version; they
also break the monotone constraints (heads.py). So a centre model is fitted on the older three quarters of
the training results, and the newest quarter measures how far below and above it each bound must sit for
90% of results to fall on its side (split conformal, one bound at a time, as in Romano et al. 2019). The shift, per platform (all platforms pooled where one has too few results), is baked
into the ONNX head itself, so serving and evaluation read calibrated bounds with no extra step.

A post whose category was not said is less predictable than one whose category was (the model cannot tell
a humour post from a finance one): with one shift for both, v4's engagement intervals held 73% of such
held-out posts. So the platform shifts are measured on the rows that said their category, and a row that
did not moves its bound further by the pooled difference between the two groups (shrunk by its rows).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from services.forecast.features import FEATURES
from services.forecast.heads import fit_centers
from shared.onnx_model import run_head
from shared.vocabulary import CATEGORIES, PLATFORMS

CALIBRATION_SHARE = 0.25
MIN_PLATFORM_ROWS = 40  # fewer calibration results than this: the platform takes the pooled shift
SHRINK_ROWS = 100  # a platform's own shift counts as much as the pooled one at this many results
PLATFORM_COLUMNS = [FEATURES.index(f"platform_{p}") for p in PLATFORMS]
CATEGORY_COLUMNS = [FEATURES.index(f"category_{c}") for c in CATEGORIES]


def bound_shift(misses: np.ndarray, level: float = 0.9) -> float:
    """How far a bound must move so `level` of results fall on its side (finite-sample conformal quantile)."""
    q = min(1.0, np.ceil((len(misses) + 1) * level) / len(misses))
    return float(np.quantile(misses, q))


def platform_shifts(x: np.ndarray, misses: np.ndarray) -> tuple[float, list[float]]:
    """The pooled shift and one per platform, shrunk toward the pooled one by its number of results
    (a 90% quantile of 80 misses is noisy: unshrunk, held-out coverage swung between 67% and 95%)."""
    pooled = bound_shift(misses)
    per = []
    for col in PLATFORM_COLUMNS:
        rows = x[:, col] == 1
        n = int(rows.sum())
        own = bound_shift(misses[rows]) if n >= MIN_PLATFORM_ROWS else pooled
        per.append((n * own + SHRINK_ROWS * pooled) / (n + SHRINK_ROWS))
    return pooled, per


def unsaid_shift(x: np.ndarray, misses: np.ndarray) -> tuple[np.ndarray, float]:
    """The rows that said their category (those the platform shifts are measured on), and how much further
    a bound moves for a row that did not; with too few rows of either kind, every row and 0."""
    unsaid = x[:, CATEGORY_COLUMNS].sum(axis=1) == 0
    n, said = int(unsaid.sum()), int((~unsaid).sum())
    if min(n, said) < MIN_PLATFORM_ROWS:
        return np.ones(len(x), dtype=bool), 0.0
    return ~unsaid, n * (bound_shift(misses[unsaid]) - bound_shift(misses[~unsaid])) / (n + SHRINK_ROWS)


def shifted_head(head: bytes, pooled: float, per_platform: list[float], unsaid: float = 0.0) -> bytes:
    """The head's output plus its row's platform shift (the pooled one for a row with no platform set), plus
    `unsaid` for a row that does not say its category."""
    model = onnx.load_from_string(head)
    graph = model.graph
    out = graph.output[0].name
    raw = f"{out}_uncalibrated"
    for node in graph.node:
        node.output[:] = [raw if o == out else o for o in node.output]
    deltas = np.array([[s - pooled] for s in per_platform], dtype=np.float32)
    graph.initializer.extend([
        numpy_helper.from_array(np.array(PLATFORM_COLUMNS, dtype=np.int64), "platform_columns"),
        numpy_helper.from_array(deltas, "platform_shift"),
        numpy_helper.from_array(np.array([[pooled]], dtype=np.float32), "pooled_shift"),
        numpy_helper.from_array(np.array(CATEGORY_COLUMNS, dtype=np.int64), "category_columns"),
        # unsaid_delta = unsaid - unsaid x (sum of the category one-hots): `unsaid` when none is set, else 0
        numpy_helper.from_array(np.full((len(CATEGORY_COLUMNS), 1), -unsaid, dtype=np.float32), "said_cancels"),
        numpy_helper.from_array(np.array([[unsaid]], dtype=np.float32), "unsaid_shift"),
    ])  # fmt: skip
    graph.node.extend([
        helper.make_node("Gather", [graph.input[0].name, "platform_columns"], ["platform_onehot"], axis=1),
        helper.make_node("MatMul", ["platform_onehot", "platform_shift"], ["platform_delta"]),
        helper.make_node("Add", ["platform_delta", "pooled_shift"], ["platform_row_shift"]),
        helper.make_node("Gather", [graph.input[0].name, "category_columns"], ["category_onehot"], axis=1),
        helper.make_node("MatMul", ["category_onehot", "said_cancels"], ["said_delta"]),
        helper.make_node("Add", ["said_delta", "unsaid_shift"], ["unsaid_delta"]),
        helper.make_node("Add", ["platform_row_shift", "unsaid_delta"], ["row_shift"]),
        helper.make_node("Add", [raw, "row_shift"], [out]),
    ])  # fmt: skip
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def calibrated_heads(x: np.ndarray, ys: dict[str, np.ndarray]) -> dict[str, bytes]:
    """p50: the centre fitted on every row; p10/p90: the centre fitted on the older rows, moved by the
    newest quarter's misses."""
    cut = len(x) - max(1, round(len(x) * CALIBRATION_SHARE))
    heads = {f"{t}_p50": head for t, head in fit_centers(x, ys).items()}
    older = fit_centers(x[:cut], {t: y[:cut] for t, y in ys.items()})
    held, truth = x[cut:], {t: y[cut:] for t, y in ys.items()}
    for t, y in truth.items():
        centre = run_head(older[t], held)
        # Misses are how far a result fell beyond its bound; p10 moves down by them, p90 up.
        for q, sign, misses in (("p10", -1.0, centre - y), ("p90", 1.0, y - centre)):
            said, unsaid = unsaid_shift(held, misses)
            pooled, per = platform_shifts(held[said], misses[said])
            heads[f"{t}_{q}"] = shifted_head(older[t], sign * pooled, [sign * s for s in per], sign * unsaid)
    return heads
