"""Choosing the fake-account model by per-format CV: fold figures, the choice rule, one ONNX graph."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from services.fraud import fake_selection as selection
from shared.training import to_onnx_bytes

SMALL_HGB = {"max_iter": 20, "max_depth": 3}
SMALL_FOREST = {"n_estimators": 15, "min_samples_leaf": 2}


def _sets(seed: int = 0) -> selection.Sets:
    """Two formats where the label follows the first feature; the second lacks feature 2 (NaN)."""
    rng = np.random.default_rng(seed)
    sets = []
    for name, n, lacks in (("a", 120, None), ("b", 80, 2)):
        x = rng.normal(size=(n, 4)).astype(np.float32)
        y = (x[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)
        if lacks is not None:
            x[:, lacks] = np.nan
        sets.append((name, x, y))
    return sets


def test_cross_validate_reports_mean_and_sd_over_folds_per_format() -> None:
    cv = selection.cross_validate(selection.Candidate("small", SMALL_HGB), _sets(), seed=0)
    assert set(cv) == {"a", "b"}
    for figures in cv.values():
        assert figures["folds"] == selection.FOLDS
        assert 0.75 < figures["accuracy"] <= 1 and figures["accuracy_sd"] >= 0
        assert {"roc_auc", "roc_auc_sd", "log_loss", "log_loss_sd"} <= set(figures)


def test_choose_takes_the_lowest_mean_log_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    useless = selection.Candidate("useless", {"max_iter": 1, "max_depth": 1, "learning_rate": 0.01})
    good = selection.Candidate("good", SMALL_HGB)
    monkeypatch.setattr(selection, "CANDIDATES", (useless, good))
    chosen, figures = selection.choose(_sets(), seed=0)
    assert chosen is good
    assert set(figures) == {"useless", "good"}


def test_forest_ensemble_exports_as_one_onnx_graph_with_missing_values() -> None:
    sets = _sets()
    x = np.vstack([s[1] for s in sets])
    y = np.concatenate([s[2] for s in sets])
    model = selection.fit(selection.Candidate("vote", SMALL_HGB, SMALL_FOREST), x, y, np.ones(len(y)), seed=0)
    session = ort.InferenceSession(to_onnx_bytes(model, x.shape[1]), providers=["CPUExecutionProvider"])
    proba = session.run(None, {session.get_inputs()[0].name: x})[1][:, 1]
    assert np.abs(proba - model.predict_proba(x)[:, 1]).max() < 1e-5
