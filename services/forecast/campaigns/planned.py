"""Forecasts stored when a plan is approved: one per line still to post, for the planned format, day and
hour (the approval-time forecast only knew a default format and time), adapted by the organisation's own
results. A result is judged against its line's forecast (outcomes.py)."""

from __future__ import annotations

from sqlmodel import Session

from services.forecast import learning, records
from services.forecast.campaigns.planner import Account, PlanState, content_of
from services.forecast.forecasting import forecast
from services.forecast.models import ForecastRecord
from shared.onnx_model import OnnxModel


def store_line_forecasts(session: Session, model: OnnxModel, org_id: str, campaign_id: str, state: PlanState,
                         accounts: list[Account], posted: set[str]) -> list[ForecastRecord]:  # fmt: skip
    """One stored forecast per unposted line of an approved account (posted lines keep the one they had)."""
    by_key = {(a.creator_id, a.platform): a for a in accounts}
    lines = [
        x for x in state.lines if x["line_id"] not in posted and (x["creator_id"], x["platform"]) in by_key
    ]
    contents = [content_of(x, by_key, state.settings.post_hour) for x in lines]
    taught = learning.learnt(session, model, org_id)
    metrics = forecast(model, contents, [taught.offsets(x["creator_id"]) for x in lines])
    rows = [
        records.new_record(org_id, campaign_id, x["creator_id"], None, c, m, model, line_id=x["line_id"])
        for x, c, m in zip(lines, contents, metrics, strict=True)
    ]
    session.add_all(rows)
    return rows
