"""ONNX model loading, input checks and hot swapping of the serving version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from shared.onnx_model import CARD_FILE, ModelCard, ModelSlot, OnnxModel, write_card

REPO = Path(__file__).resolve().parents[2]
FRAUD_V1 = REPO / "models" / "fraud_risk" / "1"
FORECAST_V1 = REPO / "models" / "forecast" / "1"


@pytest.fixture(scope="module")
def fraud_model() -> OnnxModel:
    return OnnxModel(FRAUD_V1)


def _copy_as_version(src: Path, dest: Path, version: str) -> Path:
    shutil.copytree(src, dest)
    card = json.loads((dest / CARD_FILE).read_text())
    card["version"] = version
    (dest / CARD_FILE).write_text(json.dumps(card))
    return dest


def test_model_exposes_card_name_version_and_features(fraud_model: OnnxModel) -> None:
    assert fraud_model.name == "fraud_risk"
    assert fraud_model.version == "1"
    assert len(fraud_model.features) == 8
    assert fraud_model.card.task == "classification"


def test_run_rejects_wrong_feature_count_with_shape_message(fraud_model: OnnxModel) -> None:
    with pytest.raises(ValueError, match=r"fraud_risk expects \[N, 8\] features, got \[2, 3\]"):
        fraud_model.run("model", np.zeros((2, 3)))


def test_run_rejects_one_dimensional_input(fraud_model: OnnxModel) -> None:
    with pytest.raises(ValueError, match=r"got \[8\]"):
        fraud_model.run("model", np.zeros(8))


def test_run_classifier_returns_one_probability_per_row(fraud_model: OnnxModel) -> None:
    rows = np.random.default_rng(0).normal(size=(5, 8))
    out = fraud_model.run("model", rows)
    assert out.shape == (5,)
    assert np.all((out >= 0) & (out <= 1))


def test_run_accepts_nan_features(fraud_model: OnnxModel) -> None:
    rows = np.full((1, 8), np.nan)
    out = fraud_model.run("model", rows)
    assert out.shape == (1,)
    assert np.isfinite(out).all()


def test_run_regressor_heads_return_flat_values() -> None:
    model = OnnxModel(FORECAST_V1)
    assert set(model.card.heads) == {
        f"{t}_{q}" for t in ("reach", "engagements") for q in ("p10", "p50", "p90")
    }
    out = model.run("reach_p50", np.zeros((3, len(model.features))))
    assert out.shape == (3,)


def test_run_unknown_head_raises_key_error(fraud_model: OnnxModel) -> None:
    with pytest.raises(KeyError):
        fraud_model.run("p99", np.zeros((1, 8)))


def test_slot_swap_returns_old_and_serves_new(fraud_model: OnnxModel, tmp_path: Path) -> None:
    slot = ModelSlot(fraud_model)
    assert slot.current is fraud_model
    new_folder = _copy_as_version(FRAUD_V1, tmp_path / "2", "2")
    old = slot.swap(new_folder)
    assert old is fraud_model
    assert slot.current is not fraud_model
    assert slot.current.version == "2"
    assert slot.current.folder == new_folder
    rows = np.zeros((1, 8))
    assert slot.current.run("model", rows)[0] == pytest.approx(old.run("model", rows)[0])


def test_slot_swap_keeps_old_model_when_new_folder_is_broken(fraud_model: OnnxModel, tmp_path: Path) -> None:
    slot = ModelSlot(fraud_model)
    broken = _copy_as_version(FRAUD_V1, tmp_path / "2", "2")
    (broken / "model.onnx").write_bytes(b"not an onnx file")
    with pytest.raises(Exception):  # noqa: B017  (onnxruntime raises its own exception types)
        slot.swap(broken)
    assert slot.current is fraud_model


def test_write_card_round_trips(tmp_path: Path) -> None:
    card = ModelCard.model_validate_json((FRAUD_V1 / CARD_FILE).read_text())
    folder = tmp_path / "nested" / "7"
    write_card(folder, card.model_copy(update={"version": "7", "notes": "copy"}))
    back = ModelCard.model_validate_json((folder / CARD_FILE).read_text())
    assert back.version == "7"
    assert back.notes == "copy"
    assert back.features == card.features
    assert back.training_data == card.training_data
