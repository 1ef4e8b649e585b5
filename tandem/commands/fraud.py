"""`tandem fraud ...`: train the fake-account classifier on real data, evaluate it on a file, score a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shared.settings import REPO_ROOT
from tandem.errors import CliError
from tandem.inputs import text_file
from tandem.output import JsonFlag, counter, emit, pairs, table

if TYPE_CHECKING:  # the CLI imports model code only when a command runs
    from shared.onnx_model import OnnxModel

NAME = "fraud"
app = typer.Typer(help="Fake-account classifier: train on the real data sets, evaluate, score files.")

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
ModelsDir = Annotated[Path, typer.Option(help="Model registry root.")]
Version = Annotated[str | None, typer.Option(help="Model version (default: the champion).")]
DATASET_NAMES = ("instafake", "instagram_fake_spammer_kaggle", "cresci2015_e13_int")


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
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            help="Leave a data set out (repeat). For commercial use: --exclude instafake (CC BY-NC 4.0)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Train on instafake + Kaggle + Cresci 2015, export to ONNX, write the card, promote (~1.5 min)."""
    from services.fraud.fake_training import TRAIN_STEPS
    from services.fraud.fake_training import train as run
    from shared.model_registry import ModelRegistry

    if not data.is_dir():
        raise typer.BadParameter(
            f"data folder {data} not found (it lives outside the repo, in ../shared/data)"
        )
    unknown = sorted(set(exclude or ()) - set(DATASET_NAMES))
    if unknown:
        raise typer.BadParameter(f"--exclude {', '.join(unknown)}: choose from {', '.join(DATASET_NAMES)}")
    model = run(data, ModelRegistry(models_dir), exclude=exclude or (), log=counter(TRAIN_STEPS))
    emit(_trained(model.name, model.version, model.card.metrics), as_json, _trained_text)


def _trained(name: str, version: str, metrics: dict[str, Any]) -> dict[str, Any]:
    return {"model": name, "version": version, "metrics": metrics}


def _trained_text(out: dict[str, Any]) -> str:
    rows = [[name, m["rows"], m["accuracy"], m["precision"], m["recall"], m["f1"], m["roc_auc"]]
            for name, m in out["metrics"].get("holdout", {}).items()]  # fmt: skip
    head = f"{out['model']} v{out['version']} trained and promoted; held-out rows:"
    return head + "\n" + table(rows, ["data set", "rows", "accuracy", "precision", "recall", "F1", "ROC AUC"])


@app.command()
def evaluate(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV (or .csv.gz) in the format of one of the three data sets.", callback=text_file
        ),
    ],
    split: Annotated[
        str,
        typer.Option(
            help="auto (held-out rows of a file the model was trained on, else every row) | all | holdout | train."
        ),
    ] = "auto",
    models_dir: ModelsDir = REPO_ROOT / "models",
    version: Version = None,
    as_json: JsonFlag = False,
) -> None:
    """Detect the data set by its columns, score every row, print its metrics (fake = 1)."""
    from services.fraud.datasets import UnknownFormat
    from services.fraud.fake_training import evaluate_file

    if split not in ("auto", "all", "holdout", "train"):
        raise typer.BadParameter("split must be auto, all, holdout or train")
    try:
        result = evaluate_file(_model(models_dir, version), path, split)
    except (UnknownFormat, ValueError) as exc:
        raise typer.BadParameter(f"{path.name}: {exc}") from exc
    emit(
        result, as_json, lambda r: pairs(r, f"{path.name}: {r['rows']} rows ({r['split']}), fake = positive")
    )


@app.command()
def score(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV in the format of one of the three data sets (label optional).", callback=text_file
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Output CSV (default: <input name>.scores.csv in the current folder).")
    ] = None,
    models_dir: ModelsDir = REPO_ROOT / "models",
    version: Version = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a fake probability and label for every row of the file."""
    from services.fraud.datasets import UnknownFormat
    from services.fraud.fake_training import score_file

    # Default next to where the command runs: the data sets' own folders are read-only.
    target = out or Path.cwd() / (path.name.removesuffix(".gz").removesuffix(".csv") + ".scores.csv")
    try:
        summary = score_file(_model(models_dir, version), path, target)
    except UnknownFormat as exc:
        raise typer.BadParameter(f"{path.name}: {exc}") from exc
    if not summary["rows"]:
        target.unlink(missing_ok=True)  # an output with a header only would look like a result
    _require_rows(path, summary["rows"])
    emit(summary, as_json, _scored_text)


def _require_rows(path: Path, rows: int) -> None:
    if not rows:
        raise CliError(
            f"{path} has a header but no data rows", "Give a file with at least one account per row."
        )


def _scored_text(s: dict[str, Any]) -> str:
    return (
        f"{s['rows']:,} rows of {s['dataset']} scored by {s['model_name']} v{s['model_version']}; "
        f"fake probability and label per row in {s['out']}"
    )
