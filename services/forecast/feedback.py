"""What the results say about people's adjustments: per author and market, and per lesson or trend call
applied, adjusted vs raw model error.

Errors are those stored when each result arrived (`outcomes.score`), so a later model cannot rewrite them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from services.forecast.models import ForecastOutcome, ForecastRecord


def _summary(entries: list[dict[str, Any]], key: str) -> dict[str, Any]:
    apes = [e[key]["ape"] for e in entries if e[key]["ape"] is not None]
    return {
        "mdape": round(float(np.median(apes)), 4) if apes else None,
        "coverage80": round(float(np.mean([e[key]["in_interval"] for e in entries])), 4),
    }


def _group(entries: list[dict[str, Any]]) -> dict[str, Any]:
    model, adjusted = _summary(entries, "model"), _summary(entries, "adjusted")
    closer = [abs(e["adjusted"]["p50"] - e["actual"]) < abs(e["model"]["p50"] - e["actual"]) for e in entries]
    gain = None
    if model["mdape"] is not None and adjusted["mdape"] is not None:
        gain = round(model["mdape"] - adjusted["mdape"], 4)
    return {"n": len(entries), "model": model, "adjusted": adjusted, "adjusted_closer_share":
            round(float(np.mean(closer)), 4), "mdape_gain": gain}  # fmt: skip


def adjustment_report(session: Session, org_id: str) -> list[dict[str, Any]]:
    """One row per (author, market, metric) of adjusted forecasts with results; positive gain = people helped."""
    stmt = (
        select(ForecastOutcome, ForecastRecord.market)
        .join(ForecastRecord, col(ForecastRecord.forecast_id) == col(ForecastOutcome.forecast_id))
        .where(ForecastOutcome.org_id == org_id)
    )
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for outcome, market in session.exec(stmt):
        for metric, entry in outcome.errors.items():
            if "adjusted" in entry:
                groups[(entry["adjusted"]["author"], market, metric)].append(entry)
    return [{"author": a, "market": m, "metric": metric, **_group(entries)}
            for (a, m, metric), entries in sorted(groups.items())]  # fmt: skip


def insight_report(session: Session, org_id: str) -> list[dict[str, Any]]:
    """One row per (lesson or trend call, metric) people applied, on the forecasts that then got results:
    did following it pay off (adjusted closer to the actuals than the model)?"""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for outcome in session.exec(select(ForecastOutcome).where(ForecastOutcome.org_id == org_id)):
        for metric, entry in outcome.errors.items():
            if (insight := entry.get("adjusted", {}).get("insight_id")) is not None:
                groups[(insight, metric)].append(entry)
    return [{"insight_id": i, "metric": metric, "applied_by": sorted({e["adjusted"]["author"] for e in entries}),
             **_group(entries)} for (i, metric), entries in sorted(groups.items())]  # fmt: skip
