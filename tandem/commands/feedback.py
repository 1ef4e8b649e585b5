"""`tandem feedback ...`: stored outcomes retrain ranking, forecast and fraud (champion/challenger); the simulation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shared.settings import REPO_ROOT
from tandem.output import JsonFlag, emit, pairs, records, step, table

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
                  holdout_share: float | None, min_rows: int | None, as_json: bool = False) -> None:  # fmt: skip
    """Run one champion/challenger round and print its verdict (one JSON object with --json)."""
    from tandem.feedback.retrain import RETRAINABLE, run

    if model not in RETRAINABLE:
        raise typer.BadParameter(f"unknown model {model!r}; choose one of {', '.join(RETRAINABLE)}")
    step(1, 1, f"champion/challenger round for {model} on its stored outcomes")
    emit(run(model, database_url, models_dir, margin, holdout_share, min_rows), as_json, _verdict_text)


def _verdict_text(v: dict[str, Any]) -> str:
    if v["challenger"] is None:
        head = f"{v['model']}: no challenger trained; champion v{v['champion_before']} stays"
    elif v["promoted"]:
        head = f"{v['model']}: challenger v{v['challenger']} beat champion v{v['champion_before']} and is promoted"
    else:
        why = v["report"].get("verdict", "did not beat the champion")
        head = f"{v['model']}: challenger v{v['challenger']} not promoted over v{v['champion_before']}: {why}"
    rows = f"{v['train_rows']:,} outcomes to train on, {v['holdout_rows']:,} newest held out"
    return f"{head}\n{rows}\n{pairs(v['report'])}"


@app.command()
def retrain(
    model: Annotated[str, typer.Argument(help="ranking | forecast | fraud")] = "forecast",
    database_url: DatabaseUrl = "",
    models_dir: ModelsDir = REPO_ROOT / "models",
    margin: Margin = None,
    holdout_share: HoldoutShare = None,
    min_rows: MinRows = None,
    as_json: JsonFlag = False,
) -> None:
    """Train a challenger on the stored outcomes; promote it only if it beats the champion on the newest."""
    print_retrain(model, database_url, models_dir, margin, holdout_share, min_rows, as_json)


@app.command()
def simulate(
    months: Annotated[int, typer.Option(help="Months of campaigns.")] = 4,
    per_month: Annotated[int, typer.Option(help="Approved posts a month.")] = 1000,
    margin: Annotated[float, typer.Option(help="Promotion margin.")] = 0.01,
    as_json: JsonFlag = False,
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
                     policy=retraining.Policy(margin=margin),
                     on_month=lambda m: step(m + 1, months, f"simulating month {m + 1}"))  # fmt: skip
        db.close()
    emit(report, as_json, _simulation_text)


def _simulation_text(report: dict[str, Any]) -> str:
    months = [[m["month"] + 1, m["champion"], m["posts"], m["live_log_mae"], m["eval_log_mae"],
               m["ru_reel_log_mae"], m["retrain"].get("challenger"), m["retrain"].get("promoted")]
              for m in report["months"]]  # fmt: skip
    ru_reels = f"RU reels ({report['ru_reels_in_eval']})"
    headers = ["month", "champion", "posts", "live", "fixed eval set", ru_reels, "challenger", "promoted"]
    out = ["Forecast error by month (log MAE; lower is better):", table(months, headers)]
    if report["adjustments"]:
        note = "People's adjustments against results (positive gain: people helped):"
        out += ["", note, records(report["adjustments"])]
    return "\n".join(out)
