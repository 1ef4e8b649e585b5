"""`tandem forecast ...`: evaluate and train the brand-page post model (UCI 'Facebook metrics' format)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shared.settings import REPO_ROOT
from tandem.errors import CliError
from tandem.inputs import text_file
from tandem.output import JsonFlag, emit, pairs, percent, table

NAME = "forecast"
app = typer.Typer(help="Content-performance forecasts.", no_args_is_help=True)

UCI_LICENCE = "CC BY 4.0 (UCI Machine Learning Repository); cite Moro, Rita & Vala 2016"
ModelsDir = Annotated[Path, typer.Option(help="Model registry root.")]
UciFile = Annotated[
    Path, typer.Argument(help="CSV in the facebook_metrics_uci format.", exists=True, callback=text_file)
]


@app.command()
def evaluate(path: UciFile, models_dir: ModelsDir = REPO_ROOT / "models", as_json: JsonFlag = False) -> None:
    """Per target column: mae, mape (point forecast), mape of the median and coverage80 of the champion."""
    from services.forecast.page_posts import MODEL_NAME, TARGETS, evaluate_rows, read_rows
    from shared.model_registry import ModelRegistry

    try:
        rows = read_rows(str(path))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if not rows:
        raise CliError(f"{path} has a header but no data rows", "Give a file with at least one post per row.")
    if not set(TARGETS) & set(rows[0]):
        raise CliError(
            f"{path} has none of the target columns to compare forecasts with",
            f"Evaluation needs at least one of: {', '.join(TARGETS)}.",
        )
    result = evaluate_rows(ModelRegistry(models_dir).load_champion(MODEL_NAME), rows)
    emit(result, as_json, _errors_table)


def _errors_table(result: dict[str, dict[str, Any]]) -> str:
    rows = [[t, m["rows"], m["mae"], percent(m["mape"]), percent(m["mape_p50"]), percent(m["coverage80"])]
            for t, m in result.items()]  # fmt: skip
    return table(rows, ["target", "rows", "MAE", "MAPE", "MAPE (p50)", "80% coverage"])


@app.command("train-page-posts")
def train_page_posts(
    path: UciFile, models_dir: ModelsDir = REPO_ROOT / "models", as_json: JsonFlag = False
) -> None:
    """Train and register a new page_posts version (quantile heads + conformal offsets + card)."""
    from services.forecast.page_posts_training import train
    from shared.model_registry import ModelRegistry

    model = train(path, ModelRegistry(models_dir), UCI_LICENCE, log=lambda s: typer.echo(s, err=True))
    out = {"model": model.name, "version": model.version, "metrics": model.card.metrics}
    emit(
        out, as_json, lambda o: f"{o['model']} v{o['version']} trained and registered\n{pairs(o['metrics'])}"
    )
