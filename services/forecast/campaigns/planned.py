"""Forecasts stored when a plan is approved: one per line still to post, for the planned format, day, hour,
category and message kind (the approval-time forecast only knew a default format and time), adapted by the
organisation's own results (its creators' and its messages' too). A result is judged against its line's forecast (outcomes.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.forecast import records
from services.forecast.campaigns.planner import PlanState, content_of, line_offsets
from services.forecast.forecasting import forecast
from services.forecast.models import ForecastRecord
from shared.onnx_model import OnnxModel

if TYPE_CHECKING:
    from services.forecast.campaigns.edits import Context


def line_forecasts(
    model: OnnxModel, org_id: str, campaign_id: str, state: PlanState, ctx: Context
) -> list[ForecastRecord]:
    """One forecast row per unposted line of an approved account, for the caller to store (posted lines
    keep the forecast they went out with)."""
    by_key = {(a.creator_id, a.platform): a for a in ctx.accounts}
    todo = [x for x in state.lines if x["line_id"] not in ctx.actuals]
    lines = [x for x in todo if (x["creator_id"], x["platform"]) in by_key]
    contents = [content_of(x, by_key, state) for x in lines]
    metrics = forecast(model, contents, line_offsets(ctx.taught, campaign_id, lines))
    return [
        records.new_record(org_id, campaign_id, x["creator_id"], None, c, m, model, line_id=x["line_id"])
        for x, c, m in zip(lines, contents, metrics, strict=True)
    ]
