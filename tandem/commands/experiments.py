"""`tandem experiments ...`: analyse an A/B(/n) test file and size a new one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

NAME = "experiments"
app = typer.Typer(
    help="A/B tests: analysis with intervals, P(best) and a peeking-safe verdict.", no_args_is_help=True
)


@app.command()
def analyze(
    path: Annotated[Path, typer.Argument(help="CSV (or .csv.gz), one row per unit.", exists=True)],
    variant: Annotated[str, typer.Option(help="Column naming the arm.")],
    metric: Annotated[str, typer.Option(help="Column with the outcome (0/1, True/False or a number).")],
    control: Annotated[
        str | None, typer.Option(help="Control arm value (default: first in sort order).")
    ] = None,
    alpha: Annotated[float, typer.Option(help="Family-wise significance level.")] = 0.05,
    mde: Annotated[
        float | None, typer.Option(help="Minimum detectable effect (absolute); sets the mSPRT scale.")
    ] = None,
    order_by: Annotated[
        str | None, typer.Option(help="Time column giving arrival order (default: row order).")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG of the metric over time here.")] = None,
) -> None:
    """Print one JSON object: arms (n, mean, ci_low, ci_high, prob_best) and verdict."""
    from services.forecast.experiments.data import read_groups
    from services.forecast.experiments.plot import plot_over_time
    from services.forecast.experiments.report import analyze as run_analysis

    try:
        groups = read_groups(path, variant, metric, order_by)
        report = run_analysis(groups, control=control, alpha=alpha, mde=mde)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if plot is not None:
        report["plot"] = str(plot_over_time(groups, report["metric_type"] == "binary", metric, plot))
    typer.echo(json.dumps(report))


@app.command("sample-size")
def sample_size(
    baseline: Annotated[float, typer.Option(help="Control rate (or mean, with --sd).")],
    mde: Annotated[float, typer.Option(help="Absolute minimum detectable effect.")],
    alpha: float = 0.05,
    power: float = 0.8,
    sd: Annotated[float | None, typer.Option(help="Standard deviation for a continuous metric.")] = None,
) -> None:
    """Per-arm sample size for a two-sided test."""
    from services.forecast.experiments.stats import sample_size_per_arm

    typer.echo(json.dumps({"per_arm": sample_size_per_arm(baseline, mde, alpha, power, sd)}))
