"""`tandem forecast ...`: evaluate and train the brand-page post model (UCI 'Facebook metrics' format)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shared.settings import REPO_ROOT

NAME = "forecast"
app = typer.Typer(help="Content-performance forecasts.", no_args_is_help=True)

UCI_LICENCE = "CC BY 4.0 (UCI Machine Learning Repository); cite Moro, Rita & Vala 2016"
ModelsDir = Annotated[Path, typer.Option(help="Model registry root.")]


@app.command()
def evaluate(
    path: Annotated[Path, typer.Argument(help="CSV in the facebook_metrics_uci format.", exists=True)],
    models_dir: ModelsDir = REPO_ROOT / "models",
) -> None:
    """Print one JSON object keyed by target column: mae, mape (point forecast), coverage80 of the champion."""
    from services.forecast.page_posts import MODEL_NAME, evaluate_rows, read_rows
    from shared.model_registry import ModelRegistry

    model = ModelRegistry(models_dir).load_champion(MODEL_NAME)
    try:
        result = evaluate_rows(model, read_rows(str(path)))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(result))


@app.command("train-page-posts")
def train_page_posts(
    path: Annotated[Path, typer.Argument(help="CSV in the facebook_metrics_uci format.", exists=True)],
    models_dir: ModelsDir = REPO_ROOT / "models",
) -> None:
    """Train and register a new page_posts version (quantile heads + conformal offsets + card)."""
    from services.forecast.page_posts_training import train
    from shared.model_registry import ModelRegistry

    model = train(path, ModelRegistry(models_dir), UCI_LICENCE, log=lambda s: typer.echo(s, err=True))
    typer.echo(json.dumps({"model": model.name, "version": model.version, "metrics": model.card.metrics}))
