"""`tandem fraud ...`: train the fake-account classifier on real data, evaluate it on a file, score a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shared.settings import REPO_ROOT
from tandem.errors import CliError
from tandem.inputs import text_file
from tandem.output import JsonFlag, counter, emit, table

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
    """Choose by CV per format, train on instafake + Kaggle + Cresci 2015, export to ONNX, write the card, promote (~1 min)."""
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
    metrics = out["metrics"]
    cv = metrics.get("cross_validated", {})
    rows = [[name, m["rows"], m["accuracy"], m["f1"], m["roc_auc"], _cv_cell(cv.get(name)), m["published"]["accuracy"]]
            for name, m in metrics.get("holdout", {}).items()]  # fmt: skip
    head = f"{out['model']} v{out['version']} trained and promoted; held-out rows, CV on the training rows:"
    headers = ["data set", "rows", "accuracy", "F1", "ROC AUC", "CV accuracy", "published accuracy"]
    return head + "\n" + table(rows, headers)


@app.command()
def evaluate(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="CSV (or .csv.gz) in the format of one of the three data sets (default: each data set in --data).",
            callback=text_file,
        ),
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            help="auto (held-out rows of a file the model was trained on, else every row) | all | holdout | train."
        ),
    ] = "auto",
    data: Annotated[
        Path, typer.Option(help="Folder holding the data sets, read when no PATH is given.")
    ] = DEFAULT_DATA,
    models_dir: ModelsDir = REPO_ROOT / "models",
    version: Version = None,
    as_json: JsonFlag = False,
) -> None:
    """Score a labelled file (or each data set's held-out rows): metrics per format next to the card's
    cross-validated and the published figures (fake = 1)."""
    from services.fraud.datasets import UnknownFormat
    from services.fraud.fake_training import evaluate_file, evaluate_formats

    if split not in ("auto", "all", "holdout", "train"):
        raise typer.BadParameter("split must be auto, all, holdout or train")
    model = _model(models_dir, version)
    if path is None:
        if split != "auto":
            raise typer.BadParameter("--split needs a PATH (each data set is read at its held-out rows)")
        try:
            results = evaluate_formats(model, data)
        except FileNotFoundError as exc:
            raise CliError(str(exc), "Give a labelled file as PATH, or --data with the data sets.") from exc
        out = {"model_name": model.name, "model_version": model.version, "datasets": results}
        emit(out, as_json, lambda o: _formats_text(o["datasets"], f"{o['model_name']} v{o['model_version']}"))
        return
    try:
        result = evaluate_file(model, path, split)
    except (UnknownFormat, ValueError) as exc:
        raise typer.BadParameter(f"{path.name}: {exc}") from exc
    emit(
        result, as_json, lambda r: _formats_text([r], f"{path.name}: {r['model_name']} v{r['model_version']}")
    )


def _cv_cell(cv: dict[str, Any] | None) -> str:
    return f"{cv['accuracy']:.3f} ± {cv['accuracy_sd']:.3f}" if cv else "-"


def _formats_text(results: list[dict[str, Any]], title: str) -> str:
    """One row per format: measured figures, the card's CV accuracy and the published accuracy."""
    rows = [
        [r["dataset"], r["split"], r["rows"], r["accuracy"], r["f1"], r["roc_auc"], _cv_cell(r["cross_validated"]),
         r["published"]["accuracy"]]
        for r in results
    ]  # fmt: skip
    headers = [
        "data set",
        "rows of",
        "rows",
        "accuracy",
        "F1",
        "ROC AUC",
        "CV accuracy",
        "published accuracy",
    ]
    notes = [f"published, {r['dataset']}: {r['published']['source']}" for r in results]
    notes += [
        f"warning, {r['dataset']}: {r['in_sample_rows']} of the {r['rows']} rows trained the model (in-sample, not held out)"
        for r in results
        if r["in_sample_rows"]
    ]
    return f"{title}, fake = positive\n{table(rows, headers)}\n" + "\n".join(notes)


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
