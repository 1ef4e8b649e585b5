"""The shipped fake-account classifier on the real data sets: card == evaluate, formats, scoring files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from services.fraud import datasets
from services.fraud.fake_training import evaluate_file, score_file
from services.fraud.profiles import FAKE_FEATURES, profile_features
from services.fraud.schemas import FollowerProfile
from shared.model_registry import ModelRegistry
from shared.onnx_model import OnnxModel
from tandem.cli import app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return ModelRegistry(REPO / "models").load_champion("fake_account")


@pytest.mark.parametrize("ds", datasets.DATASETS, ids=lambda d: d.name)
def test_card_metrics_equal_evaluate_on_holdout(
    shared_data: Path, model: OnnxModel, ds: datasets.DataSet
) -> None:
    path = datasets.data_file(shared_data, ds)
    printed = evaluate_file(model, path)  # auto: the held-out rows of a file the model was trained on
    card = model.card.metrics["holdout"][ds.name]
    assert printed["split"] == "holdout" and printed["in_sample_rows"] == 0
    assert printed["dataset"] == ds.name
    for key in ("rows", "accuracy", "precision", "recall", "f1", "roc_auc"):
        assert printed[key] == card[key], key


@pytest.mark.parametrize("ds", datasets.DATASETS, ids=lambda d: d.name)
def test_holdout_beats_published_accuracy(model: OnnxModel, ds: datasets.DataSet) -> None:
    held_out = model.card.metrics["holdout"][ds.name]
    assert held_out["accuracy"] >= held_out["published"]["accuracy"]


def test_card_states_every_training_licence(model: OnnxModel) -> None:
    licence = model.card.training_data.licence
    assert "CC BY-NC 4.0" in licence
    assert all(ds.name in licence for ds in datasets.DATASETS)


def test_holdout_split_is_deterministic_and_about_a_fifth(shared_data: Path) -> None:
    df = datasets.read_table(datasets.data_file(shared_data, datasets.INSTAFAKE))
    first, second = (
        datasets.holdout_mask(df, datasets.INSTAFAKE),
        datasets.holdout_mask(df, datasets.INSTAFAKE),
    )
    assert np.array_equal(first, second)
    assert 0.15 < first.mean() < 0.25
    shuffled = df.sample(frac=1.0, random_state=3)
    assert np.array_equal(datasets.holdout_mask(shuffled, datasets.INSTAFAKE), first[shuffled.index])


def test_detect_rejects_unknown_columns() -> None:
    with pytest.raises(datasets.UnknownFormat, match="no known format"):
        datasets.detect(["a", "b"])


def test_cli_evaluate_prints_one_json_object(shared_data: Path) -> None:
    path = datasets.data_file(shared_data, datasets.KAGGLE)
    result = CliRunner().invoke(app, ["fraud", "evaluate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert {"dataset", "rows", "accuracy", "precision", "recall", "f1", "roc_auc"} <= set(printed)
    assert printed["dataset"] == datasets.KAGGLE.name


def test_card_reports_cross_validated_figures_next_to_published(model: OnnxModel) -> None:
    cv = model.card.metrics["cross_validated"]
    assert set(cv) == {ds.name for ds in datasets.DATASETS}
    for figures in cv.values():
        assert figures["folds"] >= 5 and 0 < figures["accuracy_sd"] < 0.1
        assert figures["published"]["accuracy"] and figures["published"]["source"]
    selection = model.card.metrics["selection"]
    assert selection["chosen"] in selection["candidates"]


def test_cli_evaluate_without_a_file_prints_each_format_next_to_published(shared_data: Path) -> None:
    result = CliRunner().invoke(
        app, ["fraud", "evaluate", "--data", str(shared_data)], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    assert "CV accuracy" in result.stdout and "published accuracy" in result.stdout
    for ds in datasets.DATASETS:
        row = next(line for line in result.stdout.splitlines() if line.startswith(ds.name + " "))
        assert "holdout" in row and f"{ds.published['accuracy']}" in row
    printed = json.loads(
        CliRunner().invoke(app, ["fraud", "evaluate", "--data", str(shared_data), "--json"]).stdout
    )
    assert [r["dataset"] for r in printed["datasets"]] == [ds.name for ds in datasets.DATASETS]
    assert all(r["published"]["accuracy"] and r["cross_validated"]["accuracy"] for r in printed["datasets"])


def test_evaluate_counts_training_rows_as_in_sample(shared_data: Path, model: OnnxModel) -> None:
    printed = evaluate_file(model, datasets.data_file(shared_data, datasets.KAGGLE), split="all")
    trained = next(s for s in model.card.training_sets if s["name"] == datasets.KAGGLE.name)
    assert printed["in_sample_rows"] == trained["train_rows"] and printed["rows"] == trained["rows"]


def test_evaluate_unseen_file_uses_every_row(shared_data: Path, model: OnnxModel, tmp_path: Path) -> None:
    df = datasets.read_table(datasets.data_file(shared_data, datasets.CRESCI)).sample(300, random_state=1)
    path = tmp_path / "cresci_subset.csv"
    df.to_csv(path, index=False)
    printed = evaluate_file(model, path)
    assert printed["split"] == "all" and printed["rows"] == 300
    assert printed["roc_auc"] > 0.95


def test_score_file_writes_a_score_per_row(shared_data: Path, model: OnnxModel, tmp_path: Path) -> None:
    df = datasets.read_table(datasets.data_file(shared_data, datasets.INSTAFAKE)).drop(columns=["isFake"])
    src, out = tmp_path / "unlabelled.csv", tmp_path / "scores.csv"
    df.to_csv(src, index=False)
    summary = score_file(model, src, out)
    scores = pd.read_csv(out)
    assert summary["rows"] == len(df) == len(scores)
    assert scores["fake_probability"].between(0, 1).all()
    assert list(scores["row_id"]) == list(df["row_id"])


def test_profile_features_match_the_instafake_mapping(shared_data: Path) -> None:
    df = datasets.read_table(datasets.data_file(shared_data, datasets.INSTAFAKE)).head(20)
    from_table = datasets.features(df, datasets.INSTAFAKE)
    for i, row in enumerate(df.itertuples(index=False)):
        profile = FollowerProfile(
            followers=row.userFollowerCount,
            following=row.userFollowingCount,
            posts=row.userMediaCount,
            bio_length=row.userBiographyLength,
            has_profile_pic=bool(row.userHasProfilPic),
            is_private=bool(row.userIsPrivate),
            username_digit_share=row.usernameDigitCount / row.usernameLength if row.usernameLength else None,
            username_length=row.usernameLength,
        )
        served = np.array(profile_features(profile), dtype=np.float32)
        both_nan = np.isnan(served) & np.isnan(from_table[i])
        assert np.allclose(served[~both_nan], from_table[i][~both_nan]), FAKE_FEATURES


def test_profile_features_are_nan_where_unknown() -> None:
    f = dict(
        zip(FAKE_FEATURES, profile_features(FollowerProfile(followers=10, following=5, posts=0)), strict=True)
    )
    assert math.isnan(f["has_external_url"]) and math.isnan(f["username_length"])
    assert f["log10_followers"] == pytest.approx(math.log10(11))
