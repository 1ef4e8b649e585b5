"""`tandem experiments ...`: analyse an A/B(/n) test file and size a new one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tandem.inputs import text_file
from tandem.output import JsonFlag, emit, percent, table

NAME = "experiments"
app = typer.Typer(
    help="A/B tests: analysis with intervals, P(best) and a peeking-safe verdict.", no_args_is_help=True
)


@app.command()
def analyze(
    path: Annotated[
        Path, typer.Argument(help="CSV (or .csv.gz), one row per unit.", exists=True, callback=text_file)
    ],
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
    unit: Annotated[
        str | None,
        typer.Option(help="Column naming the unit measured repeatedly (e.g. a store): analysed per unit."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Per arm: n, mean with its interval, P(best); each arm against control; the verdict."""
    from services.forecast.experiments.data import read_groups
    from services.forecast.experiments.plot import plot_over_time
    from services.forecast.experiments.report import analyze as run_analysis

    try:
        groups = read_groups(path, variant, metric, order_by, unit)
        report = run_analysis(groups, control=control, alpha=alpha, mde=mde)
        if unit:
            report["unit"] = {"column": unit, "units": sum(len(v) for v in groups.values())}
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if plot is not None:
        binary = report["metric_type"] == "binary"
        report["plot"] = str(plot_over_time(groups, binary, metric, plot, control=report["control"]))
    emit(report, as_json, _report_text)


def _report_text(r: dict[str, Any]) -> str:
    v = r["verdict"]
    arms = [[name + (" (control)" if name == r["control"] else ""), a["n"], a["mean"], a["ci_low"], a["ci_high"],
             percent(a["prob_best"])] for name, a in r["arms"].items()]  # fmt: skip
    vs = [[name, c["diff"], c["diff_ci_low"], c["diff_ci_high"], c["p_value"], c["significant"],
           c["sequential_p"], c["sequential_significant"]] for name, c in v["comparisons"].items()]  # fmt: skip
    per = f"; one value per {r['unit']['column']} ({r['unit']['units']} units)" if "unit" in r else ""
    lines = [
        f"{r['metric_type']} metric; {int(v['alpha'] * 100)}% family-wise error{per}",
        table(arms, ["arm", "n", "mean", "95% low", "95% high", "P(best)"]),
        "",
        table(
            vs,
            [
                "vs control",
                "diff",
                "low",
                "high",
                "p",
                "significant",
                "always-valid p",
                "significant at any look",
            ],
        ),
        "",
        f"verdict: {v['decision']}: {v['summary']}",
        f"peeking-safe: {v['sequential_decision']} ({v['sequential_note']})",
        "power: " + "; ".join(_power(n, c) for n, c in v["comparisons"].items()),
        "",
        f"recommendation: {r['recommendation']}",
    ]
    if "plot" in r:
        lines.append(f"plot: {r['plot']}")
    return "\n".join(lines)


def _power(name: str, c: dict[str, Any]) -> str:
    at = f", power {c['power_at_mde']:.0%} at the given --mde" if c["power_at_mde"] is not None else ""
    return f"{name} vs control detects {c['mde_80']:.4g} with 80% power{at}"


@app.command("sample-size")
def sample_size(
    baseline: Annotated[float, typer.Option(help="Control rate (or mean, with --sd).")],
    mde: Annotated[float, typer.Option(help="Absolute minimum detectable effect.")],
    alpha: float = 0.05,
    power: float = 0.8,
    sd: Annotated[float | None, typer.Option(help="Standard deviation for a continuous metric.")] = None,
    arms: Annotated[
        int, typer.Option(min=2, help="Arms including control (the analysis corrects for k-1 tests).")
    ] = 2,
    as_json: JsonFlag = False,
) -> None:
    """Per-arm sample size for a two-sided test of each variant against control, corrected as analysed."""
    from services.forecast.experiments.stats import comparison_alpha, sample_size_per_arm

    try:
        per_arm = sample_size_per_arm(baseline, mde, alpha, power, sd, arms)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    level = comparison_alpha(alpha, arms)
    out = {"per_arm": per_arm, "arms": arms, "total": per_arm * arms, "alpha": alpha, "alpha_per_comparison": level,
           "power": power}  # fmt: skip
    emit(out, as_json, lambda o: (f"{o['per_arm']:,} units per arm, {o['total']:,} in all ({arms} arms; alpha "
                                  f"{alpha} family-wise = {level:.4g} per comparison, power {power:.0%})"))  # fmt: skip
