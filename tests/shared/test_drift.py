"""PSI is near zero for the training distribution and large for a shifted one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.drift import MIN_ROWS, DriftWindow, psi, reference

FEATURES = ["a", "b"]


def _training(rng: np.random.Generator, n: int = 5000) -> np.ndarray:
    return np.column_stack([rng.normal(0, 1, n), rng.exponential(1, n)]).astype(np.float32)


def test_same_distribution_has_small_psi() -> None:
    rng = np.random.default_rng(0)
    window = DriftWindow(reference(_training(rng), FEATURES), FEATURES)
    window.observe(_training(rng, 2000))
    assert max(window.psi_by_feature().values()) < 0.05
    assert window.drifted() == {}


def test_shifted_feature_is_reported_and_the_other_is_not() -> None:
    rng = np.random.default_rng(1)
    window = DriftWindow(reference(_training(rng), FEATURES), FEATURES)
    live = _training(rng, 2000)
    live[:, 0] += 1.5
    window.observe(live)
    drifted = window.drifted()
    assert set(drifted) == {"a"}
    assert drifted["a"] > 0.25


def test_too_few_rows_never_alert() -> None:
    rng = np.random.default_rng(2)
    window = DriftWindow(reference(_training(rng), FEATURES), FEATURES)
    live = _training(rng, MIN_ROWS - 1)
    live[:, 0] += 5
    window.observe(live)
    assert window.drifted() == {}


def test_missing_values_count_in_their_own_bin() -> None:
    rng = np.random.default_rng(3)
    train = _training(rng)
    window = DriftWindow(reference(train, FEATURES), FEATURES)
    live = _training(rng, 2000)
    live[:, 1] = np.nan
    window.observe(live)
    assert window.psi_by_feature()["b"] > 1.0


def test_psi_of_identical_proportions_is_zero() -> None:
    p = np.array([0.2, 0.3, 0.5])
    assert psi(p, p) == 0.0


def test_watcher_reports_drift_of_a_served_model_once(tmp_path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from shared.model_registry import ModelRegistry, ModelWatcher
    from shared.onnx_model import DataRef, ModelSlot, OnnxModel
    from shared.training import register_version, to_onnx_bytes

    rng = np.random.default_rng(4)
    x = _training(rng)
    y = (x[:, 0] > 0).astype(int)
    clf = HistGradientBoostingClassifier(max_iter=10).fit(x, y)
    registry = ModelRegistry(tmp_path)
    model = register_version(
        registry, "toy", {"model": to_onnx_bytes(clf, 2)}, task="classification", features=FEATURES,
        data=DataRef(source="test", sha256="0", rows=len(x), licence="test"), evaluate=lambda m: {},
        reference_rows=x,
    )  # fmt: skip
    assert model.drift is not None
    slot = ModelSlot(model)
    calls: list[tuple[OnnxModel, dict[str, float]]] = []
    watcher = ModelWatcher(registry, {"toy": slot}, on_drift=lambda m, d: calls.append((m, d)))
    live = _training(rng, 1000)
    live[:, 1] *= 4
    slot.current.run("model", live)
    assert set(watcher.check_drift()["toy"]) == {"b"}
    watcher.check_drift()
    assert len(calls) == 1
    assert calls[0][0].version == "1"
