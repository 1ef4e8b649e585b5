"""One campaign as people read it: timeline, plan, tracking, alerts, retrospective with the decisions
behind each line, lessons and trend calls. Plain data: the API returns it, the web page renders it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlmodel import Session, col, select

from services.review import campaigns, insights, portfolio
from services.review.models import (
    AdjustmentSent,
    Campaign,
    CampaignAlert,
    CampaignEntry,
    CampaignLine,
    OutcomeSeen,
    ReviewDecision,
    ReviewTask,
)

FUNNEL = ("reach", "engagements", "clicks", "conversions")


def _results(session: Session, c: Campaign) -> list[OutcomeSeen]:
    stmt = select(OutcomeSeen).where(OutcomeSeen.org_id == c.org_id, OutcomeSeen.campaign_id == c.campaign_id)
    return list(session.exec(stmt.order_by(col(OutcomeSeen.posted_at))))


def _lines(session: Session, c: Campaign) -> list[CampaignLine]:
    stmt = select(CampaignLine).where(
        CampaignLine.org_id == c.org_id, CampaignLine.campaign_id == c.campaign_id
    )
    return list(session.exec(stmt.order_by(col(CampaignLine.scheduled_on), col(CampaignLine.line_id))))


def _per(amount: float, count: float, scale: float = 1.0) -> float | None:
    return round(amount / count * scale, 2) if count else None


def tracking(c: Campaign, lines: list[CampaignLine], results: list[OutcomeSeen]) -> dict[str, Any]:
    """Totals against plan, unit costs, per-post actual vs forecast band, spend over time, the funnel and
    the message variants compared."""
    metric = campaigns.MAIN_METRIC.get(c.objective, "reach")
    by_line: dict[str, list[OutcomeSeen]] = defaultdict(list)
    for r in results:
        by_line[r.line_id or ""].append(r)
    totals = {m: round(sum(float(getattr(r, m)) for r in results), 2) for m in FUNNEL}
    spend = round(sum(r.spend_usd for r in results), 2)
    posts = [
        {"line_id": ln.line_id, "creator": ln.creator_name or ln.creator_id, "platform": ln.platform,
         "format": ln.format, "variant": ln.variant_id, "scheduled_on": ln.scheduled_on.isoformat(),
         "p10": ln.p10, "p50": ln.p50, "p90": ln.p90, "cost_usd": ln.cost_usd,
         "actual": round(sum(float(getattr(r, metric)) for r in by_line[ln.line_id]), 2) if by_line[ln.line_id] else None}
        for ln in lines
    ]  # fmt: skip
    cumulative, running = [], 0.0
    for r in results:
        running += r.spend_usd
        cumulative.append({"at": r.posted_at.date().isoformat(), "spend_usd": round(running, 2)})
    return {
        "metric": metric, "results": len(results), "totals": totals, "spend_usd": spend,
        "budget_usd": c.budget_usd, "plan_cost_usd": c.plan_cost_usd,
        "forecast_p50": round(sum(ln.p50 for ln in lines), 2),
        "cost_per_1k_reach": _per(spend, totals["reach"], 1000), "cost_per_engagement": _per(spend, totals["engagements"]),
        "cost_per_conversion": _per(spend, totals["conversions"]), "posts": posts, "spend_over_time": cumulative,
        "funnel": [{"stage": m, "value": totals[m]} for m in FUNNEL], "variants": _variants(lines, results, metric),
    }  # fmt: skip


def _variants(lines: list[CampaignLine], results: list[OutcomeSeen], metric: str) -> list[dict[str, Any]]:
    p50 = {ln.line_id: ln.p50 for ln in lines}
    line_variant = {ln.line_id: ln.variant_id for ln in lines}
    groups: dict[str, list[OutcomeSeen]] = defaultdict(list)
    for r in results:
        groups[r.variant or line_variant.get(r.line_id or "", "") or "unknown"].append(r)
    out = []
    for variant, rs in sorted(groups.items()):
        actual = sum(float(getattr(r, metric)) for r in rs)
        forecast = sum(p50.get(r.line_id or "", 0.0) for r in rs)
        out.append({"variant": variant, "posts": len(rs), "actual": round(actual, 2), "forecast": round(forecast, 2),
                    "actual_vs_forecast": round(actual / forecast, 3) if forecast else None,
                    "per_post": round(actual / len(rs), 2)})  # fmt: skip
    return out


def decisions_behind(session: Session, c: Campaign, lines: list[CampaignLine],
                     results: list[OutcomeSeen]) -> list[dict[str, Any]]:  # fmt: skip
    """Per creator on the plan: who approved (or that the policy decided), who pushed back on the
    forecast, and whether the push-back pointed the way the results went."""
    tasks = list(session.exec(select(ReviewTask).where(ReviewTask.org_id == c.org_id,
                                                       ReviewTask.campaign_id == c.campaign_id,
                                                       ReviewTask.route != "audit")))  # fmt: skip
    ids = [t.task_id for t in tasks]
    final = {
        d.task_id: d for d in session.exec(select(ReviewDecision).where(col(ReviewDecision.task_id).in_(ids)))
    }
    pushes: dict[str, list[AdjustmentSent]] = defaultdict(list)
    for a in session.exec(select(AdjustmentSent).where(col(AdjustmentSent.task_id).in_(ids))):
        pushes[a.task_id].append(a)
    metric = campaigns.MAIN_METRIC.get(c.objective, "reach")
    ratio = _creator_ratios(lines, results, metric)
    out = []
    for t in tasks:
        d = final.get(t.task_id)
        out.append({
            "creator_id": t.creator_id, "creator": t.entry.get("creator", {}).get("name", t.creator_id),
            "decision": d.decision if d else "open", "decided_by": d.decided_by if d else "",
            "automated": bool(d and d.automated), "route_reason": t.route_reason,
            "actual_vs_forecast": ratio.get(t.creator_id),
            "pushbacks": [_pushback(a, ratio.get(t.creator_id)) for a in pushes[t.task_id]],
        })  # fmt: skip
    return out


def _creator_ratios(lines: list[CampaignLine], results: list[OutcomeSeen], metric: str) -> dict[str, float]:
    p50 = {ln.line_id: (ln.creator_id, ln.p50) for ln in lines}
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in results:
        if r.line_id in p50:
            creator, forecast = p50[r.line_id]
            sums[creator][0] += float(getattr(r, metric))
            sums[creator][1] += forecast
    return {k: round(a / f, 3) for k, (a, f) in sums.items() if f}


def _pushback(a: AdjustmentSent, ratio: float | None) -> dict[str, Any]:
    said_up = (a.multiplier or 1.0) > 1
    right = None if ratio is None or a.multiplier in (None, 1.0) else (ratio > 1) == said_up
    return {
        "author": a.author,
        "metric": a.metric,
        "multiplier": a.multiplier,
        "reason": a.reason,
        "right": right,
    }


def _with_decisions(retro: dict[str, Any], behind: list[dict[str, Any]]) -> dict[str, Any]:
    """The retrospective's lines, each with the decision behind its creator (who, or auto, push-backs)."""
    by_creator = {d["creator_id"]: d for d in behind}
    keep = ("decision", "decided_by", "automated", "pushbacks")
    lines = [{**ln, **{k: by_creator[ln["creator_id"]][k] for k in keep if ln["creator_id"] in by_creator}}
             for ln in retro.get("lines", [])]  # fmt: skip
    return {**retro, "lines": lines}


def detail(session: Session, org_id: str, campaign_id: str) -> dict[str, Any]:
    c = campaigns.get(session, org_id, campaign_id)
    lines, results = _lines(session, c), _results(session, c)
    summary = portfolio.rows_for(session, org_id, [c])[0]
    entries = session.exec(select(CampaignEntry).where(CampaignEntry.org_id == org_id, CampaignEntry.campaign_id
                                                       == campaign_id).order_by(col(CampaignEntry.at)))  # fmt: skip
    alerts = session.exec(select(CampaignAlert).where(CampaignAlert.org_id == org_id, CampaignAlert.campaign_id
                                                      == campaign_id).order_by(col(CampaignAlert.detected_at)))  # fmt: skip
    creators = {ln.creator_id for ln in lines} | {r.creator_id for r in results}
    behind = decisions_behind(session, c, lines, results)
    return {
        "campaign": summary.model_dump(mode="json"),
        "brief": {"category": c.category, "platforms": c.platforms, "keywords": c.keywords,
                  "brand_values": c.brand_values, "opened_at": c.opened_at, "closed_by": c.closed_by,
                  "closed_at": c.closed_at},
        "timeline": [{"at": e.at, "kind": e.kind, "text": e.text, "who": e.who} for e in entries],
        "plan": {**c.plan, "version": c.plan_version, "approved": c.plan_approved, "lines": len(lines)},
        "tracking": tracking(c, lines, results),
        "alerts": [a.model_dump(exclude={"org_id"}) for a in alerts],
        "retrospective": _with_decisions(c.retrospective, behind) if c.retrospective else None,
        "decisions": behind,
        "lessons": [x.model_dump() for x in insights.for_campaign(session, c, creators)],
        "trends": [x.model_dump() for x in insights.live_trends(session, org_id, c.markets, set(c.platforms) or None)],
    }  # fmt: skip
