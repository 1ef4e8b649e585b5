"""PNG plots of the people report for the reviewer web app (matplotlib, headless Agg backend)."""

from __future__ import annotations

import io
from typing import Any

PLOTS = ("adjustments", "calibration", "reviewers")


def png(draw: Any) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # a Figure, not pyplot: no global state shared between threads

    fig = Figure(figsize=(7, 3.6), dpi=100)
    ax = fig.add_subplot()
    draw(ax)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def empty(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, f"No {what} with results yet", ha="center", va="center")
    ax.set_axis_off()


def adjustments(report: dict[str, Any]) -> bytes:
    """Median error of the raw model and of the adjusted figure, per author, market and metric."""
    rows = [
        r for r in report["adjustments"] if r["raw_mdape"] is not None and r["adjusted_mdape"] is not None
    ]

    def draw(ax: Any) -> None:
        if not rows:
            return empty(ax, "adjustments")
        labels = [f"{r['author']}\n{r['market']} {r['metric']}" for r in rows]
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], [r["raw_mdape"] for r in rows], 0.4, label="model")
        ax.bar([x + 0.2 for x in xs], [r["adjusted_mdape"] for r in rows], 0.4, label="adjusted")
        ax.set_xticks(list(xs), labels, fontsize=7)
        ax.set_ylabel("median abs. % error")
        ax.set_title("Forecast adjustments vs the raw model (lower is better)")
        ax.legend()

    return png(draw)


def calibration(report: dict[str, Any]) -> bytes:
    """Approval hit rate by match-score band, policy vs people."""

    def draw(ax: Any) -> None:
        rows = [r for r in report["calibration"] if r["hit_rate"] is not None]
        if not rows:
            return empty(ax, "approvals")
        for who in ("policy", "people"):
            mine = [r for r in rows if r["who"] == who]
            ax.plot([(r["match_from"] + r["match_to"]) / 2 for r in mine], [r["hit_rate"] for r in mine], "o-",
                    label=who)  # fmt: skip
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("match score")
        ax.set_ylabel("approvals that met the forecast")
        ax.set_title("Calibration of approvals")
        ax.legend()

    return png(draw)


def reviewers(report: dict[str, Any]) -> bytes:
    """Approval hit rate per reviewer and market (the policy included)."""
    rows = [r for r in report["decisions"] if r["approval_hit_rate"] is not None]

    def draw(ax: Any) -> None:
        if not rows:
            return empty(ax, "decisions")
        ax.barh([f"{r['who']} · {r['market']}" for r in rows], [r["approval_hit_rate"] for r in rows])
        ax.axvline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xlim(0, 1)
        ax.set_xlabel("approvals that met the forecast")
        ax.set_title("Hit rate of approvals")

    return png(draw)


def render(name: str, report: dict[str, Any]) -> bytes:
    return {"adjustments": adjustments, "calibration": calibration, "reviewers": reviewers}[name](report)
