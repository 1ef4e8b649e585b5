"""The committed page_posts model (UCI Facebook metrics): errors, interval coverage, inputs only pre-publication."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _evaluate(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["evaluate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_evaluate_on_the_training_file_names_in_sample_rows_and_reports_cv(shared_data: Path) -> None:
    out = _evaluate(shared_data / "facebook_metrics_uci" / "dataset_Facebook_train.csv")
    assert (
        set(out["targets"]) == set(TARGETS) and len(out["in_sample_rows"]) == 321
    )  # all but the held-out fifth
    for figures in out["targets"].values():
        assert {"mae", "mape", "coverage80"} <= set(figures["held_out"]) and figures["held_out"]["rows"] == 80
        assert figures["cross_validated"]["rows"] == 2 * 401  # 5-fold x 2 over the whole file
    consumers = out["targets"][CONSUMERS]
    assert consumers["held_out"]["mape"] < 0.68
    assert consumers["cross_validated"]["mape"] < consumers["cross_validated"]["plain_gbm_mape"]
    human = CliRunner().invoke(
        app, ["evaluate", str(shared_data / "facebook_metrics_uci" / "dataset_Facebook_train.csv")]
    )
    assert "fitted on 321 of the 401 rows" in human.output and "Cross-validated" in human.output


def test_evaluate_finds_training_rows_in_any_file_and_only_those(shared_data: Path, tmp_path: Path) -> None:
    lines = (shared_data / "facebook_metrics_uci" / "dataset_Facebook_train.csv").read_text().splitlines()
    header, body = lines[0], lines[1:]
    subset = tmp_path / "subset.csv"
    subset.write_text("\n".join([header, *reversed(body[:40])]) + "\n")  # other order, other length
    full = _evaluate(shared_data / "facebook_metrics_uci" / "dataset_Facebook_train.csv")["in_sample_rows"]
    assert _evaluate(subset)["in_sample_rows"] == sorted(41 - n for n in full if n <= 40)
    unseen = tmp_path / "unseen.csv"  # the same posts with other outcomes: rows never fitted on
    col = header.split(",").index(CONSUMERS)
    cells = [r.split(",") for r in body[:40]]
    changed = [",".join([*c[:col], str(int(c[col]) + 1), *c[col + 1 :]]) for c in cells]
    unseen.write_text("\n".join([header, *changed]) + "\n")
    out = _evaluate(unseen)
    assert out["in_sample_rows"] == [] and out["targets"][CONSUMERS]["held_out"]["rows"] == 40
    assert "cross_validated" not in out["targets"][CONSUMERS]


def test_evaluate_cli_rejects_a_file_without_the_inputs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(app, ["evaluate", str(bad)])
    assert result.exit_code != 0
    assert "missing input columns" in result.output
