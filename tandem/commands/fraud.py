"""`tandem fraud ...`: train the fake-account classifier on real data, evaluate it on a file, score a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shared.settings import REPO_ROOT

if TYPE_CHECKING:  # the CLI imports model code only when a command runs
    from shared.onnx_model import OnnxModel

NAME = "fraud"
app = typer.Typer(help="Fake-account classifier: train on the real data sets, evaluate, score files.")

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
ModelsDir = Annotated[Path, typer.Option(help="Model registry root.")]
Version = Annotated[str | None, typer.Option(help="Model version (default: the champion).")]


def _model(models_dir: Path, version: str | None) -> OnnxModel:
    from services.fraud.fake_training import MODEL_NAME
    from shared.model_registry import ModelRegistry
    from shared.onnx_model import OnnxModel

    registry = ModelRegistry(models_dir)
    return OnnxModel(registry.root / MODEL_NAME / version) if version else registry.load_champion(MODEL_NAME)


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="Folder holding the three data sets.")] = DEFAULT_DATA,
    models_dir: ModelsDir = REPO_ROOT / "models",
) -> None:
    """Train on instafake + Kaggle + Cresci 2015, export to ONNX, write the card, promote."""
    from services.fraud.fake_training import train as run
    from shared.model_registry import ModelRegistry

    if not data.exists():
        raise typer.BadParameter(
            f"data folder {data} not found (it lives outside the repo, in ../shared/data)"
        )
    model = run(data, ModelRegistry(models_dir))
    typer.echo(json.dumps({"model": model.name, "version": model.version, "metrics": model.card.metrics}))


@app.command()
def evaluate(
    path: Annotated[
        Path, typer.Argument(help="CSV (or .csv.gz) in the format of one of the three data sets.")
    ],
    split: Annotated[
        str,
        typer.Option(
            help="auto (held-out rows of a file the model was trained on, else every row) | all | holdout | train."
        ),
    ] = "auto",
    models_dir: ModelsDir = REPO_ROOT / "models",
    version: Version = None,
) -> None:
    """Detect the data set by its columns, score every row, print one JSON object of metrics (fake = 1)."""
    from services.fraud.datasets import UnknownFormat
    from services.fraud.fake_training import evaluate_file

    if split not in ("auto", "all", "holdout", "train"):
        raise typer.BadParameter("split must be auto, all, holdout or train")
    try:
        result = evaluate_file(_model(models_dir, version), path, split)
    except (UnknownFormat, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(result))


@app.command()
def score(
    path: Annotated[
        Path, typer.Argument(help="CSV in the format of one of the three data sets (label optional).")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Output CSV (default: <input name>.scores.csv in the current folder).")
    ] = None,
    models_dir: ModelsDir = REPO_ROOT / "models",
    version: Version = None,
) -> None:
    """Write a fake probability and label for every row of the file."""
    from services.fraud.datasets import UnknownFormat
    from services.fraud.fake_training import score_file

    # Default next to where the command runs: the data sets' own folders are read-only.
    target = out or Path.cwd() / (path.name.removesuffix(".gz").removesuffix(".csv") + ".scores.csv")
    try:
        summary = score_file(_model(models_dir, version), path, target)
    except UnknownFormat as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(summary))
