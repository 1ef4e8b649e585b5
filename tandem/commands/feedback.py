"""`tandem feedback ...`: campaign results retrain the forecast model (champion/challenger) and the simulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shared.settings import REPO_ROOT

NAME = "feedback"
app = typer.Typer(
    help="Feedback loop: retrain on campaign results, simulate months of it.", no_args_is_help=True
)

ModelsDir = Annotated[Path, typer.Option(envvar="TANDEM_MODELS_DIR", help="Model registry root.")]


@app.command()
def retrain(
    database_url: Annotated[
        str, typer.Option(help="Forecast service database (default: its own setting).")
    ] = "",
    models_dir: ModelsDir = REPO_ROOT / "models",
    margin: Annotated[float, typer.Option(help="Relative error reduction needed to promote.")] = 0.02,
    holdout_share: Annotated[float, typer.Option(help="Most recent share of results held out.")] = 0.2,
    min_rows: Annotated[int, typer.Option(help="Fewest joined results worth training on.")] = 200,
) -> None:
    """Train a forecast challenger on the results so far; promote it only if it beats the champion."""
    from services.forecast import retraining
    from services.forecast.config import ForecastSettings
    from shared.bus.outbox import Outbox
    from shared.db import Database, migrate
    from shared.model_registry import ModelRegistry

    settings = ForecastSettings()
    db = Database(database_url or settings.effective_database_url)
    migrate(db.url, REPO_ROOT / "services" / "forecast" / "migrations")
    policy = retraining.Policy(margin=margin, holdout_share=holdout_share, min_rows=min_rows)
    # Staged in the service's outbox: its relay publishes ModelPromoted once it runs.
    outcome = retraining.retrain(db, Outbox("forecast"), ModelRegistry(models_dir), policy, trigger="cli")
    run = outcome.run
    typer.echo(json.dumps({"run_id": run.run_id, "champion_before": run.champion_version,
                           "challenger": run.challenger_version, "promoted": run.promoted,
                           "train_rows": run.train_rows, "holdout_rows": run.holdout_rows,
                           "report": run.report}))  # fmt: skip
    db.close()


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
