"""`tandem train` into a fresh models folder, and the commercial-licence retrain of the fake-account model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.fraud.fake_training import load_parts
from shared.model_registry import ModelRegistry
from tandem.cli import app


def test_train_ranking_into_a_fresh_folder_trains_the_fraud_model_it_needs_first(tmp_path: Path) -> None:
    args = ["train", "ranking", "--models-dir", str(tmp_path), "--creators", "400", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [m["model"] for m in json.loads(result.stdout)] == ["fraud_risk", "ranking"]
    assert "[1/3] generating the demo world (400 creators)" in result.stderr
    assert "[3/3] training ranking" in result.stderr
    registry = ModelRegistry(tmp_path)
    assert registry.champion_version("ranking") == registry.champion_version("fraud_risk") == "1"


def test_commercial_training_leaves_instafake_out(shared_data: Path) -> None:
    parts = load_parts(shared_data, exclude=["instafake"])
    assert [p.ds.name for p in parts] == ["instagram_fake_spammer_kaggle", "cresci2015_e13_int"]


def test_training_without_any_instagram_set_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "cresci2015_fake_followers_e13_int").mkdir()
    with pytest.raises(FileNotFoundError, match="no Instagram data set to train on"):
        load_parts(tmp_path)
    result = CliRunner().invoke(app, ["fraud", "train", "--data", str(tmp_path), "--exclude", "instagram"])
    assert result.exit_code == 2 and "--exclude instagram: choose from instafake" in result.output


def test_a_dropped_data_set_folder_is_left_out_as_the_readme_says(shared_data: Path, tmp_path: Path) -> None:
    for name in ("instagram_fake_spammer_kaggle", "cresci2015_fake_followers_e13_int"):
        (tmp_path / name).symlink_to(shared_data / name)
    assert [p.ds.name for p in load_parts(tmp_path)] == [
        "instagram_fake_spammer_kaggle",
        "cresci2015_e13_int",
    ]
