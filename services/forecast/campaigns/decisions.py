"""The decisions behind each plan line, for the retrospective: who approved the creator (or whether a
policy did), who pushed back on the forecast, and whether the result proved the push-back right."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services.forecast.campaigns.planner import Line
from services.forecast.models import CampaignCreator, ForecastAdjustment, ForecastRecord
from shared.events import PushBack


def _right(p50: float, multiplier: float, actual: float | None) -> bool | None:
    """A push-back is right when its figure, scaled onto the line's forecast, lands closer to the actual."""
    if actual is None:
        return None
    return abs(actual - p50 * multiplier) < abs(actual - p50)


class Behind:
    """Loaded once per campaign; `of(line, actuals)` gives the fields of one RetrospectiveLine."""

    def __init__(self, session: Session, org_id: str, campaign_id: str) -> None:
        rows = session.exec(select(CampaignCreator).where(CampaignCreator.org_id == org_id,
                                                          CampaignCreator.campaign_id == campaign_id))  # fmt: skip
        self.decisions = {(r.creator_id, r.platform): r for r in rows}
        stmt = (
            select(ForecastAdjustment, ForecastRecord.creator_id)
            .join(ForecastRecord, col(ForecastRecord.forecast_id) == col(ForecastAdjustment.forecast_id))
            .where(ForecastRecord.org_id == org_id, ForecastRecord.campaign_id == campaign_id)
            .order_by(col(ForecastAdjustment.proposed_at))
        )
        self.adjustments: dict[str, list[ForecastAdjustment]] = {}
        for adj, creator in session.exec(stmt):
            self.adjustments.setdefault(creator or "", []).append(adj)

    def of(self, line: Line, actuals: dict[str, float] | None) -> dict[str, Any]:
        d = self.decisions.get((line["creator_id"], line["platform"]))
        pushes = []
        for a in self.adjustments.get(line["creator_id"], []):
            multiplier = a.adjusted_p50 / a.model_p50 if a.model_p50 > 0 else 1.0
            p50 = next((f["p50"] for f in line["forecast"] if f["metric"] == a.metric), None)
            actual = (actuals or {}).get(a.metric)
            pushes.append(PushBack(author=a.author, metric=a.metric, multiplier=round(multiplier, 4), reason=a.reason,
                                   insight_id=a.insight_id,
                                   right=_right(p50, multiplier, actual) if p50 is not None else None))  # fmt: skip
        return {"decided_by": d.decided_by if d else None, "automated": d.automated if d else None,
                "push_backs": pushes}  # fmt: skip
