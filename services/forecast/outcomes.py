"""When results arrive, score the model's and the people's figures against the actuals (kept for feedback)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.forecast.adjustments import for_forecast
from services.forecast.campaigns import tracking
from services.forecast.models import ForecastOutcome, ForecastRecord
from shared.events import CampaignResultReported


def _score(actual: float, p10: float, p50: float, p90: float) -> dict[str, Any]:
    ape = abs(actual - p50) / actual if actual > 0 else None
    return {
        "p50": p50,
        "ape": round(ape, 4) if ape is not None else None,
        "in_interval": p10 <= actual <= p90,
    }


def score(forecast: ForecastRecord, actuals: dict[str, float], adjustments: list[Any]) -> dict[str, Any]:
    """Per forecast metric: the model's error, and the latest adjustment's error where someone adjusted it."""
    latest = {a.metric: a for a in adjustments}  # ordered by time, so the last one wins
    out: dict[str, Any] = {}
    for m in forecast.metrics:
        if m["metric"] not in actuals:
            continue
        actual = actuals[m["metric"]]
        entry = {"actual": actual, "model": _score(actual, m["p10"], m["p50"], m["p90"])}
        if adj := latest.get(m["metric"]):
            entry["adjusted"] = {**_score(actual, adj.adjusted_p10, adj.adjusted_p50, adj.adjusted_p90),
                                 "adjustment_id": adj.adjustment_id, "author": adj.author,
                                 "insight_id": adj.insight_id}  # fmt: skip
        out[m["metric"]] = entry
    return out


def forecast_for(
    session: Session, org_id: str, event: CampaignResultReported, line_id: str | None
) -> ForecastRecord | None:
    """The forecast of the result's plan line (stored when the plan was approved), else the creator's latest
    approval-time forecast for the campaign."""
    stmt = (
        select(ForecastRecord)
        .where(ForecastRecord.org_id == org_id, ForecastRecord.campaign_id == event.campaign_id,
               ForecastRecord.creator_id == event.creator_id)
        .order_by(col(ForecastRecord.created_at).desc())
    )  # fmt: skip
    if line_id is not None and (row := session.exec(stmt.where(ForecastRecord.line_id == line_id)).first()):
        return row
    return session.exec(stmt.where(col(ForecastRecord.line_id).is_(None))).first()


def record_result(session: Session, org_id: str, event: CampaignResultReported) -> ForecastOutcome | None:
    """Match a result to the creator's forecast for that campaign; None when nothing was forecast."""
    if existing := session.get(ForecastOutcome, (org_id, event.result_id)):
        return existing
    found = tracking.plan_line(session, org_id, event)
    forecast = forecast_for(session, org_id, event, found[0]["line_id"] if found else None)
    if forecast is None:
        return None
    actuals = {"reach": event.reach, "engagements": event.engagements, "clicks": event.clicks,
               "conversions": event.conversions}  # fmt: skip
    row = ForecastOutcome(
        result_id=event.result_id, org_id=org_id, forecast_id=forecast.forecast_id, actuals=actuals,
        errors=score(forecast, actuals, for_forecast(session, org_id, forecast.forecast_id)),
        received_at=datetime.now(UTC),
    )  # fmt: skip
    session.add(row)
    return row
