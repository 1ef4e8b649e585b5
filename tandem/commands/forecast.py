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
    """Per target column: mae, mape (point forecast), mape of the median and coverage80 of the champion on
    rows it never fitted on; on its own training file, which rows are in-sample and the cross-validated figures."""
    from services.forecast.page_posts import MODEL_NAME, TARGETS, evaluate_file, read_rows
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
    result = evaluate_file(ModelRegistry(models_dir).load_champion(MODEL_NAME), rows)
    emit(result, as_json, _report)


def _errors_table(per_target: dict[str, dict[str, Any] | None], baseline: bool = False) -> str:
    """One row per target; with `baseline`, the plain gradient-boosting MAPE measured on the same folds."""
    rows = [[t, m["rows"], m["mae"], percent(m["mape"]), percent(m["mape_p50"]), percent(m["coverage80"]),
             *([percent(m.get("plain_gbm_mape"))] if baseline else [])]
            for t, m in per_target.items() if m]  # fmt: skip
    headers = ["target", "rows", "MAE", "MAPE", "MAPE (p50)", "80% coverage"]
    return table(rows, [*headers, *(["plain GBM MAPE"] if baseline else [])])


def _row_ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> '1-3, 5'."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in spans)


def _report(result: dict[str, Any]) -> str:
    targets, model, inside = result["targets"], result["model"], result["in_sample_rows"]
    held = {t: e["held_out"] for t, e in targets.items()}
    if not inside:
        return f"{model}: none of the {result['rows']} rows was fitted on, so every figure is out-of-sample\n" + (
            _errors_table(held))  # fmt: skip
    cv = {t: e["cross_validated"] for t, e in targets.items()}
    return "\n".join([
        f"{model} was fitted on {len(inside)} of the {result['rows']} rows of this file: they are in-sample "
        f"(data rows {_row_ranges(inside)}), so their own figures are no test (--json shows them as in_sample).",
        f"\nHeld out: the {result['rows'] - len(inside)} rows never fitted on", _errors_table(held),
        "\nCross-validated on its whole training file (5-fold x 2: two out-of-fold forecasts a row; model card)",
        _errors_table(cv, baseline=True),
    ])  # fmt: skip


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
