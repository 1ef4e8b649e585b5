"""Human adjustments to forecasts: keep the model's figure and the adjusted one, with who, why and which market."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from services.forecast.models import ForecastAdjustment, ForecastRecord
from shared.errors import Invalid, NotFound


@dataclass(frozen=True)
class AdjustmentSpec:
    adjustment_id: str
    forecast_id: str
    metric: str
    multiplier: float | None
    absolute_value: float | None
    reason: str
    market: str | None
    author: str
    proposed_at: datetime
    insight_id: str | None = None


def adjusted(
    p10: float, p50: float, p90: float, multiplier: float | None, absolute: float | None
) -> tuple[float, ...]:
    """Scale the whole interval by the multiplier, or move the median to the absolute value, keeping its shape."""
    if (multiplier is None) == (absolute is None):
        raise Invalid("give exactly one of multiplier and absolute_value", field="multiplier")
    if multiplier is not None:
        factor = multiplier
    else:
        assert absolute is not None
        factor = absolute / p50 if p50 > 0 else 0.0
        if p50 <= 0:
            return (absolute, absolute, absolute)
    return tuple(round(v * factor, 1) for v in (p10, p50, p90))


def record(session: Session, org_id: str, spec: AdjustmentSpec, source: str) -> ForecastAdjustment:
    """Store one adjustment beside the forecast's model figures; replays of the same id return the stored row."""
    if existing := session.get(ForecastAdjustment, spec.adjustment_id):
        return existing
    forecast = session.exec(
        select(ForecastRecord).where(
            ForecastRecord.org_id == org_id, ForecastRecord.forecast_id == spec.forecast_id
        )
    ).first()
    if forecast is None:
        raise NotFound(f"no forecast {spec.forecast_id}", field="forecast_id")
    model = next((m for m in forecast.metrics if m["metric"] == spec.metric), None)
    if model is None:
        known = ", ".join(m["metric"] for m in forecast.metrics)
        raise Invalid(
            f"forecast {spec.forecast_id} has no metric {spec.metric!r} (has: {known})", field="metric"
        )
    p10, p50, p90 = adjusted(model["p10"], model["p50"], model["p90"], spec.multiplier, spec.absolute_value)
    row = ForecastAdjustment(
        adjustment_id=spec.adjustment_id, org_id=org_id, forecast_id=spec.forecast_id, metric=spec.metric,
        multiplier=spec.multiplier, absolute_value=spec.absolute_value,
        model_p10=model["p10"], model_p50=model["p50"], model_p90=model["p90"],
        adjusted_p10=p10, adjusted_p50=p50, adjusted_p90=p90, reason=spec.reason, market=spec.market,
        author=spec.author, source=source, insight_id=spec.insight_id, proposed_at=spec.proposed_at,
    )  # fmt: skip
    session.add(row)
    return row


def for_forecast(session: Session, org_id: str, forecast_id: str) -> list[ForecastAdjustment]:
    stmt = (
        select(ForecastAdjustment)
        .where(ForecastAdjustment.org_id == org_id, ForecastAdjustment.forecast_id == forecast_id)
        .order_by(col(ForecastAdjustment.proposed_at))
    )
    return list(session.exec(stmt))
