"""Live tracking: results per post against plan and against each post's interval, costs per outcome,
alerts for posts below their p10, and the message comparison so far."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.forecast.campaigns import edits, messaging, store
from services.forecast.campaigns.planner import METRICS, Line, PlanState
from services.forecast.models import LineResult, PlanAlert
from services.forecast.schemas import ResultIn
from shared.bus.outbox import Outbox
from shared.errors import Invalid
from shared.events import CampaignResultReported, PostBelowForecast

ResultLike = ResultIn | CampaignResultReported


def plan_line(session: Session, org_id: str, r: ResultLike, where: str = "") -> tuple[Line, PlanState] | None:
    """The plan line a result belongs to; None for a campaign without a plan and a result without line_id.
    Without line_id a result is matched to the creator's earliest unposted line on that platform and format."""
    row = store.latest(session, org_id, r.campaign_id)
    if row is None:
        if r.line_id is not None:
            raise Invalid(f"campaign {r.campaign_id} has no content plan, so no line {r.line_id}",
                          field=f"{where}line_id")  # fmt: skip
        return None
    state = PlanState.from_json(row.state)
    if r.line_id is None:
        posted = store.results_by_line(session, org_id, r.campaign_id)
        line = next((x for x in state.lines if (x["creator_id"], x["platform"], x["format"]) ==
                     (r.creator_id, r.platform, r.format) and x["line_id"] not in posted), None)  # fmt: skip
        return (line, state) if line else None
    line = next((x for x in state.lines if x["line_id"] == r.line_id), None)
    if line is None:
        raise Invalid(f"campaign {r.campaign_id}'s plan has no line {r.line_id}", field=f"{where}line_id")
    if line["creator_id"] != r.creator_id:
        raise Invalid(f"line {r.line_id} is {line['creator_id']}'s post, not {r.creator_id}'s",
                      field=f"{where}creator_id")  # fmt: skip
    if r.variant is not None and r.variant not in state.variant_ids():
        raise Invalid(f"no message variant {r.variant} in campaign {r.campaign_id} (have: "
                      f"{', '.join(state.variant_ids())})", field=f"{where}variant")  # fmt: skip
    return line, state


def validate(session: Session, org_id: str, items: list[ResultIn]) -> None:
    """The REST and webhook check, before anything is stored: a 422 naming the result and field (figures no
    post can have were refused by the model itself, shared.plausibility)."""
    for i, r in enumerate(items):
        plan_line(session, org_id, r, f"results.{i}.")


def record(session: Session, outbox: Outbox, org_id: str, event: CampaignResultReported) -> LineResult | None:
    """A result on campaign.results.v1: stored against its line (once by result_id), alerts raised, messages
    re-allocated. An unknown line raises, so the event goes to the dead-letter topic (as did implausible
    figures, refused when the event was parsed)."""
    if (done := session.get(LineResult, event.result_id)) is not None:
        return done
    found = plan_line(session, org_id, event)
    if found is None:
        return None
    line, _ = found
    metrics = {m: float(getattr(event, m)) for m in METRICS}
    row = LineResult(result_id=event.result_id, org_id=org_id, campaign_id=event.campaign_id, line_id=line["line_id"],
                     creator_id=event.creator_id, variant_id=event.variant or line["variant_id"], metrics=metrics,
                     spend_usd=event.spend_usd, posted_at=event.posted_at, received_at=datetime.now(UTC))  # fmt: skip
    session.add(row)
    session.flush()
    _alerts(session, outbox, org_id, event.campaign_id, line, metrics)
    edits.reallocate(session, outbox, org_id, event.campaign_id)
    return row


def _alerts(session: Session, outbox: Outbox, org_id: str, campaign_id: str, line: Line,
            metrics: dict[str, float]) -> None:  # fmt: skip
    now = datetime.now(UTC)
    for f in line["forecast"]:
        actual = metrics.get(f["metric"])
        # Metrics are counts: below a p10 of 0.04 conversions is no miss (0 is the likeliest outcome), so
        # a post is below its forecast when it falls short of the whole number p10 guarantees.
        if actual is None or actual >= math.floor(f["p10"]):
            continue
        if session.get(PlanAlert, (org_id, campaign_id, line["line_id"], f["metric"])) is not None:
            continue  # once per line and metric, whatever later readings say
        session.add(PlanAlert(org_id=org_id, campaign_id=campaign_id, line_id=line["line_id"], metric=f["metric"],
                              actual=actual, p10=f["p10"], p50=f["p50"], detected_at=now))  # fmt: skip
        outbox.stage(session, PostBelowForecast(
            campaign_id=campaign_id, line_id=line["line_id"], creator_id=line["creator_id"], metric=f["metric"],
            actual=actual, p10=f["p10"], p50=f["p50"], detected_at=now), org_id=org_id)  # fmt: skip


def _status(actual: float, f: dict[str, Any]) -> str:
    return (
        "below p10"
        if actual < math.floor(f["p10"])
        else "above p90"
        if actual > f["p90"]
        else "within p10-p90"
    )


def _per(spend: float, amount: float, scale: float = 1.0) -> float | None:
    return round(spend / amount * scale, 2) if amount > 0 else None


def report(session: Session, org_id: str, campaign_id: str) -> dict[str, Any]:
    """Spend, outcomes against plan and against each posted line's interval, cost per outcome, alerts, messages."""
    row = store.current(session, org_id, campaign_id)
    state = PlanState.from_json(row.state)
    results = store.results_by_line(session, org_id, campaign_id)
    lines, actual, planned_posted = [], dict.fromkeys(METRICS, 0.0), dict.fromkeys(METRICS, 0.0)
    spend = 0.0
    for x in state.lines:
        r = results.get(x["line_id"])
        entry: dict[str, Any] = {"line_id": x["line_id"], "creator_id": x["creator_id"], "platform": x["platform"],
                                 "format": x["format"], "variant_id": x["variant_id"], "scheduled_on": x["scheduled_on"],
                                 "planned_cost_usd": x["cost_usd"], "posted": r is not None}  # fmt: skip
        if r is not None:
            line_spend = r.spend_usd or x["cost_usd"]
            spend += line_spend
            entry["spend_usd"] = line_spend
            entry["metrics"] = {}
            for f in x["forecast"]:
                if f["metric"] in METRICS:
                    a = r.metrics[f["metric"]]
                    actual[f["metric"]] += a
                    planned_posted[f["metric"]] += f["p50"]
                    entry["metrics"][f["metric"]] = {"actual": a, "p10": f["p10"], "p50": f["p50"], "p90": f["p90"],
                                                     "status": _status(a, f)}  # fmt: skip
        lines.append(entry)
    plan_totals = {t.metric: t.model_dump() for t in store.totals(state.lines)}
    verdict = messaging.analyse(messaging.observations(state.lines, {k: v.metrics for k, v in results.items()},
                                                       state.settings.metric), state.variant_ids())  # fmt: skip
    alerts = session.exec(_alerts_query(org_id, campaign_id)).all()
    return {
        "campaign_id": campaign_id, "plan_version": row.version, "approved": row.approved_by is not None,
        "posts_planned": len(state.lines), "posts_reported": len(results),
        "spend_usd": round(spend, 2), "planned_cost_usd": row.total_cost_usd, "budget_usd": state.settings.budget_usd,
        "metrics": {m: {"actual": round(actual[m], 2), "forecast_p50_of_posted": round(planned_posted[m], 2),
                        "plan_p50": plan_totals[m]["p50"], "plan_p10": plan_totals[m]["p10"],
                        "plan_p90": plan_totals[m]["p90"]} for m in METRICS},
        "cost_per_1k_reach_usd": _per(spend, actual["reach"], 1000),
        "cost_per_engagement_usd": _per(spend, actual["engagements"]),
        "cost_per_click_usd": _per(spend, actual["clicks"]),
        "cost_per_conversion_usd": _per(spend, actual["conversions"]),
        "alerts": [{"line_id": a.line_id, "metric": a.metric, "actual": a.actual, "p10": a.p10, "p50": a.p50,
                    "detected_at": a.detected_at} for a in alerts],
        "messages": verdict_json(verdict, state.settings.metric),
        "lines": lines,
    }  # fmt: skip


def _alerts_query(org_id: str, campaign_id: str) -> Any:
    return (select(PlanAlert).where(PlanAlert.org_id == org_id, PlanAlert.campaign_id == campaign_id)
            .order_by(col(PlanAlert.detected_at)))  # fmt: skip


def verdict_json(v: messaging.Verdict, metric: str) -> dict[str, Any]:
    return {
        "metric": metric, "leader": v.leader, "winner": v.winner, "prob_best": v.prob_best, "summary": v.summary,
        "diff_log": v.diff, "diff_low_log": v.diff_low, "diff_high_log": v.diff_high,
        "arms": [{"variant_id": a.variant_id, "posts": a.posts, "creators": a.creators,
                  "lift_vs_forecast": round(a.lift, 4) if a.posts else None} for a in v.arms],
    }  # fmt: skip
