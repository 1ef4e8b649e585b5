"""Lessons and trend calls (campaign.insights.v1) on the plan: shown on the lines in their scope, and
applied by a person as a recorded adjustment of the forecast (the plan re-optimises around it)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.forecast import adjustments
from services.forecast.campaigns import edits, store
from services.forecast.campaigns.planner import PlanState, applies, attrs
from services.forecast.models import Campaign, ForecastRecord, Insight, PlanVersion
from shared.bus.outbox import Outbox
from shared.errors import Conflict, Invalid, NotFound
from shared.events import LessonRecorded, TrendCalled
from shared.onnx_model import OnnxModel
from shared.vocabulary import FORMATS

WEEKEND = ["Sat", "Sun"]
# A trend call applied without a multiplier moves the forecast by up to 20% at full confidence: experts'
# calls are a nudge on the model, not a replacement of it (the person can give any multiplier instead).
TREND_STEP = 0.2


def remember(session: Session, org_id: str, event: LessonRecorded | TrendCalled) -> None:
    """Store a lesson or trend call once (a replay or a re-publication keeps the first)."""
    insight_id = event.lesson_id if isinstance(event, LessonRecorded) else event.trend_id
    if session.get(Insight, insight_id) is not None:
        return
    at = event.recorded_at if isinstance(event, LessonRecorded) else event.called_at
    session.add(Insight(insight_id=insight_id, org_id=org_id, kind="lesson" if isinstance(event, LessonRecorded)
                        else "trend", payload=event.model_dump(mode="json"), recorded_at=at))  # fmt: skip


def where_of(insight: Insight, campaign: Campaign, variants: list[dict[str, str]]) -> dict[str, Any] | None:
    """The plan-line attributes an insight's scope covers; None when it does not concern this campaign."""
    p = insight.payload
    if insight.kind == "trend":
        if date.fromisoformat(p["expires_on"]) < datetime.now(UTC).date():
            return None
        topic = p["topic_or_format"].lower()
        where: dict[str, Any] = {"market": p["market"], "platform": p["platform"]}
        if topic in FORMATS:
            return {**where, "format": topic}
        related = topic == campaign.category.lower() or topic in (k.lower() for k in campaign.keywords)
        return where if related else None
    scope, value, market = p["scope"], p["scope_value"], p.get("market")
    if scope == "category":
        return {"market": market} if value.lower() == campaign.category.lower() else None
    if scope == "message":
        ids = [
            v["variant_id"]
            for v in variants
            if value == v["variant_id"] or value.lower() in v["text"].lower()
        ]
        return {"message": ids, "market": market} if ids else None
    if scope == "timing":
        days = WEEKEND if value.lower() == "weekend" else [value[:3].title()]
        return {"weekday": days, "market": market}
    if scope == "market":
        return {"market": value}
    return {scope: value, "market": market}


def _insights(session: Session, org_id: str) -> list[Insight]:
    return list(
        session.exec(select(Insight).where(Insight.org_id == org_id).order_by(col(Insight.recorded_at)))
    )


def notes(
    session: Session, org_id: str, campaign: Campaign, state: PlanState
) -> dict[str, list[dict[str, Any]]]:
    """line_id -> the lessons and trend calls whose scope matches that line, and whether they are applied."""
    applied = {a["insight_id"] for a in state.adjustments}
    scoped = [
        (i, w) for i in _insights(session, org_id) if (w := where_of(i, campaign, state.variants)) is not None
    ]
    out: dict[str, list[dict[str, Any]]] = {}
    for line in state.lines:
        have = attrs(line)
        out[line["line_id"]] = [
            _note(i, i.insight_id in applied) for i, w in scoped if applies({"where": w}, have)
        ]
    return out


def _note(i: Insight, applied: bool) -> dict[str, Any]:
    p = i.payload
    if i.kind == "lesson":
        return {"kind": "lesson", "id": i.insight_id, "text": p["text"], "rule": p["rule"], "metric": p["metric"],
                "multiplier": p["multiplier"], "author": p["author"], "applied": applied}  # fmt: skip
    return {"kind": "trend", "id": i.insight_id, "text": f"{p['topic_or_format']} {p['direction']} in {p['market']}: "
            f"{p['reason']}", "confidence": p["confidence"], "expires_on": p["expires_on"], "author": p["author"],
            "applied": applied}  # fmt: skip


def _rule(
    insight: Insight, metric: str | None, multiplier: float | None, default_metric: str
) -> tuple[str, float]:
    p = insight.payload
    if insight.kind == "lesson":
        m, k = metric or p.get("metric") or default_metric, multiplier or p.get("multiplier")
        if k is None:
            raise Invalid(f"lesson {insight.insight_id} has no rule multiplier; give one", field="multiplier")
        return m, float(k)
    step = TREND_STEP * p["confidence"] * (1 if p["direction"] == "up" else -1)
    return metric or default_metric, float(multiplier or round(1 + step, 3))


def apply(session: Session, outbox: Outbox, model: OnnxModel, org_id: str, campaign_id: str, insight_id: str,
          body: Any, actor: str) -> PlanVersion:  # fmt: skip
    """A person applies a lesson's rule or a trend call: the matching lines' forecasts are adjusted (recorded
    with the insight id and the person), the plan re-optimises, and the approvals' forecasts in scope get
    the same recorded adjustment, so the feedback report scores whether following it paid off."""
    ctx = edits._editable(session, org_id, campaign_id, model)
    assert ctx.state is not None and ctx.row is not None
    insight = session.get(Insight, insight_id)
    if insight is None or insight.org_id != org_id:
        raise NotFound(f"no lesson or trend call {insight_id}", field="insight_id")
    if any(a["insight_id"] == insight_id for a in ctx.state.adjustments):
        raise Conflict(f"{insight.kind} {insight_id} is already applied to this plan", field="insight_id")
    where = where_of(insight, ctx.campaign, ctx.state.variants)
    if where is None:
        raise Invalid(f"{insight.kind} {insight_id} does not concern this campaign (scope, market or expiry)",
                      field="insight_id")  # fmt: skip
    metric, multiplier = _rule(insight, body.metric, body.multiplier, ctx.state.settings.metric)
    now = datetime.now(UTC)
    adj = {"adjustment_id": f"adj-{uuid.uuid4().hex[:12]}", "insight_id": insight_id, "kind": insight.kind,
           "metric": metric, "multiplier": multiplier, "where": where, "author": actor, "why": body.why,
           "applied_at": now.isoformat()}  # fmt: skip
    ctx.state.adjustments.append(adj)
    matching = [x["line_id"] for x in ctx.state.lines if applies(adj, attrs(x))]
    new = edits._reoptimise(ctx, model, ctx.state, ctx.row.version + 1)
    _record_on_forecasts(session, org_id, campaign_id, adj, insight)
    change = (
        f"applied {insight.kind} {insight_id}: {metric} x{multiplier:g} where "
        f"{ {k: v for k, v in where.items() if v} } ({len(matching)} lines matched before re-optimising)"
    )
    return store.save(
        session, outbox, org_id, campaign_id, new, changed_by=actor, change=change, why=body.why
    )


def _record_on_forecasts(
    session: Session, org_id: str, campaign_id: str, adj: dict[str, Any], insight: Insight
) -> None:
    """The approvals' forecasts know no message or weekday: a lesson scoped to those adjusts the plan only."""
    if any(v is not None and k in ("message", "weekday") for k, v in adj["where"].items()):
        return
    stmt = select(ForecastRecord).where(
        ForecastRecord.org_id == org_id, ForecastRecord.campaign_id == campaign_id
    )
    for rec in session.exec(stmt):
        have = {
            "market": rec.market,
            "platform": rec.platform,
            "format": rec.format,
            "creator": rec.creator_id or "",
        }
        if not applies(adj, have):
            continue
        if not any(m["metric"] == adj["metric"] for m in rec.metrics):
            continue
        adjustments.record(session, org_id, adjustments.AdjustmentSpec(
            adjustment_id=f"{adj['adjustment_id']}-{rec.forecast_id[-8:]}", forecast_id=rec.forecast_id,
            metric=adj["metric"], multiplier=adj["multiplier"], absolute_value=None,
            reason=f"{insight.kind} {insight.insight_id}: {_note(insight, True)['text']}"[:2000],
            market=rec.market, author=adj["author"], proposed_at=datetime.now(UTC), insight_id=insight.insight_id,
        ), source="insight")  # fmt: skip
