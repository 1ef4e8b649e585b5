"""PNG plots of one campaign for its page: actual vs the forecast band per post, spend over time, the
funnel and the message variants compared (matplotlib Figures, like feedback_plots)."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.review.feedback_plots import empty, png

PLOTS = ("posts", "spend", "funnel", "messages")


def _short(text: str, n: int = 14) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def posts(t: dict[str, Any]) -> bytes:
    """Each post's forecast p10-p90 band with its p50, and the actual where it has reported."""
    rows = t["posts"]

    def draw(ax: Any) -> None:
        if not rows:
            return empty(ax, "plan lines")
        xs = list(range(len(rows)))
        ax.bar(xs, [r["p90"] - r["p10"] for r in rows], bottom=[r["p10"] for r in rows], width=0.6,
               color="#c9d7ee", label="forecast p10-p90")  # fmt: skip
        ax.scatter(xs, [r["p50"] for r in rows], marker="_", s=300, color="#1f5fbf", label="forecast p50")
        done = [(x, r["actual"]) for x, r in zip(xs, rows, strict=True) if r["actual"] is not None]
        if done:
            below = [r["actual"] < r["p10"] for r in rows if r["actual"] is not None]
            ax.scatter([x for x, _ in done], [a for _, a in done], s=40, zorder=3, label="actual",
                       color=["#a3261b" if b else "#17693a" for b in below])  # fmt: skip
        step = max(1, len(rows) // 16)  # at most ~16 labels stay readable on a laptop screen
        ax.set_xticks(xs[::step], [_short(f"{r['creator']} {r['scheduled_on'][5:]}") for r in rows][::step],
                      rotation=30, ha="right", fontsize=8)  # fmt: skip
        ax.set_ylabel(t["metric"])
        ax.set_title(f"{t['metric'].capitalize()} per post: actual vs forecast band")
        ax.legend(fontsize=8, loc="upper right")

    return png(draw)


def spend(t: dict[str, Any]) -> bytes:
    points = t["spend_over_time"]

    def draw(ax: Any) -> None:
        if not points:
            return empty(ax, "spend")
        days = [date.fromisoformat(p["at"]) for p in points]
        ax.step(days, [p["spend_usd"] for p in points], where="post", color="#1f5fbf", marker="o", ms=3)
        if t["budget_usd"]:
            ax.axhline(
                t["budget_usd"], color="#a3261b", ls="--", lw=1, label=f"budget ${t['budget_usd']:,.0f}"
            )
            ax.legend(fontsize=8)
        ax.set_ylabel("cumulative spend, USD")
        ax.set_title("Spend over time")
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)

    return png(draw)


def funnel(t: dict[str, Any]) -> bytes:
    stages = t["funnel"]

    def draw(ax: Any) -> None:
        if not t["results"]:
            return empty(ax, "results")
        ax.barh([s["stage"] for s in stages][::-1], [s["value"] for s in stages][::-1], color="#1f5fbf")
        for y, s in enumerate(stages[::-1]):
            ax.text(s["value"], y, f" {s['value']:,.0f}", va="center", fontsize=9)
        ax.set_xscale("log")  # reach and conversions differ by 3-4 orders of magnitude
        ax.set_xlabel("total (log scale)")
        ax.set_title("Funnel: reach to conversions")

    return png(draw)


def messages(t: dict[str, Any]) -> bytes:
    rows = t["variants"]

    def draw(ax: Any) -> None:
        if not rows:
            return empty(ax, "message results")
        labels = [f"{r['variant']} ({r['posts']} posts)" for r in rows]
        values = [r["actual_vs_forecast"] or 0 for r in rows]
        ax.bar(labels, values, color="#1f5fbf")
        ax.axhline(1.0, color="grey", ls="--", lw=0.8)
        for x, v in enumerate(values):
            ax.text(x, v, f"{v:.2f}x", ha="center", va="bottom", fontsize=9)
        ax.set_ylabel(f"actual / forecast {t['metric']}")
        ax.set_title("Message variants: results against their forecast")

    return png(draw)


def render(name: str, t: dict[str, Any]) -> bytes:
    return {"posts": posts, "spend": spend, "funnel": funnel, "messages": messages}[name](t)
