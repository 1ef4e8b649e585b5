"""The committed page_posts model (UCI Facebook metrics): errors, interval coverage, inputs only pre-publication."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from services.forecast.page_posts import FEATURES, MODEL_NAME, TARGETS, feature_matrix, predict
from shared.model_registry import ModelRegistry
from shared.onnx_model import OnnxModel
from tandem.commands.forecast import app

REPO = Path(__file__).resolve().parents[2]
CONSUMERS = "Lifetime Post Consumers"


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return ModelRegistry(REPO / "models").load_champion(MODEL_NAME)


def test_features_are_only_pre_publication_inputs() -> None:
    outcome_words = ("lifetime", "reach", "impressions", "engaged", "consum", "comment", "like_", "share")
    assert not [f for f in FEATURES if any(w in f for w in outcome_words)]


def test_card_holdout_beats_plain_gbm_with_nominal_coverage(model: OnnxModel) -> None:
    held, cv = model.card.metrics["holdout"], model.card.metrics["cv_5fold_x2"]
    assert held[CONSUMERS]["mape"] < 0.68 * 0.75  # the plain model: ~68%
    for target in TARGETS:
        assert cv[target]["mape"] < cv[target]["plain_gbm_mape"] * 0.7, target
        assert abs(cv[target]["coverage80"] - 0.8) <= 0.05, target
    assert abs(np.mean([held[t]["coverage80"] for t in TARGETS]) - 0.8) <= 0.05


def test_intervals_are_ordered_and_missing_inputs_still_score(model: OnnxModel) -> None:
    rows = [{"Page total likes": "139441", "Type": "Photo", "Category": "2", "Post Month": "12",
             "Post Weekday": "4", "Post Hour": "3", "Paid": ""},
            {"Page total likes": "81370", "Type": "Video", "Category": "1", "Post Month": "1",
             "Post Weekday": "1", "Post Hour": "10", "Paid": "1"}]  # fmt: skip
    pred = predict(model, feature_matrix(rows))
    for target in TARGETS:
        p = pred[target]
        assert (p["p10"] <= p["p50"]).all() and (p["p50"] <= p["p90"]).all() and (p["p10"] >= 0).all()


def test_evaluate_cli_prints_errors_per_target(shared_data: Path) -> None:
    path = shared_data / "facebook_metrics_uci" / "dataset_Facebook_train.csv"
    result = CliRunner().invoke(app, ["evaluate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == set(TARGETS)
    for figures in out.values():
        assert {"mae", "mape", "coverage80"} <= set(figures)
    assert out[CONSUMERS]["mape"] < 0.68


def test_evaluate_cli_rejects_a_file_without_the_inputs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(app, ["evaluate", str(bad)])
    assert result.exit_code != 0
    assert "missing input columns" in result.output
