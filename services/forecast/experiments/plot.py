"""A PNG of the metric over time per arm, with 95% intervals (matplotlib, Agg backend: no display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from services.forecast.experiments.stats import Arm, compare


def cumulative_band(values: np.ndarray, binary: bool, points: int = 60) -> tuple[np.ndarray, ...]:
    """Row counts, running mean and its 95% interval at evenly spaced points of the arm's history."""
    counts = np.unique(np.linspace(min(20, len(values)), len(values), points).astype(int))
    stats = [Arm.of(values[:n], binary) for n in counts]
    lo, hi = zip(*(s.ci95() for s in stats), strict=True)
    return counts, np.array([s.mean for s in stats]), np.array(lo), np.array(hi)


def difference_band(
    control: np.ndarray, variant: np.ndarray, binary: bool, points: int = 60
) -> tuple[np.ndarray, ...]:
    """Rows per arm, running difference (variant - control) and its 95% interval, as the report computes it."""
    top = min(len(control), len(variant))
    counts = np.unique(np.linspace(min(20, top), top, points).astype(int))
    rows = [compare(Arm.of(control[:n], binary), Arm.of(variant[:n], binary)) for n in counts]
    return counts, *(np.array([float(r[k]) for r in rows]) for k in ("diff", "diff_ci_low", "diff_ci_high"))


def plot_over_time(
    groups: dict[str, np.ndarray], binary: bool, metric: str, path: Path, control: str | None = None
) -> Path:
    """Left: each arm's running mean with its interval. Right (with a control): each variant's difference
    from control with its 95% interval, the figure a decision rests on."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, 2 if control else 1, figsize=(13 if control else 8, 4.5), dpi=100, squeeze=False
    )
    ax = axes[0][0]
    for name, values in groups.items():
        n, mean, lo, hi = cumulative_band(values, binary)
        ax.plot(n, mean, label=f"{name} (n={len(values):,})")
        ax.fill_between(n, lo, hi, alpha=0.2)
    ax.set_xlabel("observations per arm (in arrival order)")
    ax.set_ylabel(f"cumulative mean of {metric}")
    ax.set_title(f"{metric} over time, 95% intervals")
    ax.legend()
    if control:
        _differences(axes[0][1], groups, binary, metric, control)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def _differences(ax: Any, groups: dict[str, np.ndarray], binary: bool, metric: str, control: str) -> None:
    for name in (g for g in groups if g != control):
        n, diff, lo, hi = difference_band(groups[control], groups[name], binary)
        (line,) = ax.plot(n, diff, label=f"{name} - {control}")
        ax.fill_between(n, lo, hi, alpha=0.2, color=line.get_color())
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("observations per arm (in arrival order)")
    ax.set_ylabel(f"difference in {metric}")
    ax.set_title("difference from control, 95% interval (0 = no difference)")
    ax.legend()
