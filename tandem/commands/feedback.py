"""`tandem feedback ...`: stored outcomes retrain ranking, forecast and fraud (champion/challenger); the simulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shared.settings import REPO_ROOT

NAME = "feedback"
app = typer.Typer(
    help="Feedback loop: retrain on stored outcomes, simulate months of it.", no_args_is_help=True
)

ModelsDir = Annotated[Path, typer.Option(envvar="TANDEM_MODELS_DIR", help="Model registry root.")]
# Shared with `tandem train MODEL --from-results`; unset means the service's TANDEM_<SERVICE>_RETRAIN_* setting.
DatabaseUrl = Annotated[str, typer.Option(help="The model's service database (default: its own setting).")]
Margin = Annotated[float | None, typer.Option(help="Relative loss reduction needed to promote.")]
HoldoutShare = Annotated[float | None, typer.Option(help="Most recent share of outcomes held out.")]
MinRows = Annotated[int | None, typer.Option(help="Fewest joined outcomes worth training on.")]


def print_retrain(model: str, database_url: str, models_dir: Path, margin: float | None,
                  holdout_share: float | None, min_rows: int | None) -> None:  # fmt: skip
    """Run one champion/challenger round and print its verdict as one JSON object."""
    from tandem.feedback.retrain import RETRAINABLE, run

    if model not in RETRAINABLE:
        raise typer.BadParameter(f"unknown model {model!r}; choose one of {', '.join(RETRAINABLE)}")
    typer.echo(json.dumps(run(model, database_url, models_dir, margin, holdout_share, min_rows)))


@app.command()
def retrain(
    model: Annotated[str, typer.Argument(help="ranking | forecast | fraud")] = "forecast",
    database_url: DatabaseUrl = "",
    models_dir: ModelsDir = REPO_ROOT / "models",
    margin: Margin = None,
    holdout_share: HoldoutShare = None,
    min_rows: MinRows = None,
) -> None:
    """Train a challenger on the stored outcomes; promote it only if it beats the champion on the newest."""
    print_retrain(model, database_url, models_dir, margin, holdout_share, min_rows)


@app.command()
def simulate(
    months: Annotated[int, typer.Option(help="Months of campaigns.")] = 4,
    per_month: Annotated[int, typer.Option(help="Approved posts a month.")] = 1000,
    margin: Annotated[float, typer.Option(help="Promotion margin.")] = 0.01,
) -> None:
    """Months of simulated campaigns (scratch database and registry): errors per month and the people report."""
    import tempfile

    from services.forecast import retraining
    from shared.db import Database, migrate
    from shared.model_registry import ModelRegistry
    from tandem.feedback.simulation import simulate as run

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'forecast.db'}"
        migrate(url, REPO_ROOT / "services" / "forecast" / "migrations")
        db = Database(url)
        report = run(db, ModelRegistry(Path(tmp) / "models"), months=months, per_month=per_month,
                     policy=retraining.Policy(margin=margin))  # fmt: skip
        db.close()
    typer.echo(json.dumps(report, indent=2, default=str))
