"""A PNG of the metric over time per arm, with 95% intervals (matplotlib, Agg backend: no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from services.forecast.experiments.stats import Arm


def cumulative_band(values: np.ndarray, binary: bool, points: int = 60) -> tuple[np.ndarray, ...]:
    """Row counts, running mean and its 95% interval at evenly spaced points of the arm's history."""
    counts = np.unique(np.linspace(min(20, len(values)), len(values), points).astype(int))
    stats = [Arm.of(values[:n], binary) for n in counts]
    lo, hi = zip(*(s.ci95() for s in stats), strict=True)
    return counts, np.array([s.mean for s in stats]), np.array(lo), np.array(hi)


def plot_over_time(groups: dict[str, np.ndarray], binary: bool, metric: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for name, values in groups.items():
        n, mean, lo, hi = cumulative_band(values, binary)
        ax.plot(n, mean, label=f"{name} (n={len(values):,})")
        ax.fill_between(n, lo, hi, alpha=0.2)
    ax.set_xlabel("observations per arm (in arrival order)")
    ax.set_ylabel(f"cumulative mean of {metric}")
    ax.set_title(f"{metric} over time, 95% intervals")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
