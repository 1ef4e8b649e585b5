"""Why did a campaign beat or miss its forecast: forecast vs actual of the objective's metric, decomposed by
creator, platform, format, market, message and timing.

Per dimension, the lines are split by value, so each dimension's contributions (actual - forecast of its
group) add up exactly to the total miss. Those raw group misses confound causes, though: the platform a
failing creator posts on inherits the creator's miss. So each value also gets an *explained* miss: the
part of the miss it accounts for in one stagewise fit over all dimensions at once, measured against the
forecast (no campaign-wide baseline, so of message A and B only the one that missed is blamed).
Contributors are ranked by the absolute explained miss.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlmodel import Session

from services.forecast.campaigns import messaging, store
from services.forecast.campaigns.decisions import Behind
from services.forecast.campaigns.planner import OBJECTIVE_METRIC, PlanSettings, PlanState
from services.forecast.models import Campaign, LineResult, Retrospective
from services.forecast.sequencing import WEEKDAYS
from shared.bus.outbox import Outbox
from shared.events import CampaignCloseRequested, CampaignRetrospectiveReady, Contribution, RetrospectiveLine

DIMENSIONS = ("creator", "platform", "format", "market", "message", "timing", "weekday")
# Forward stagewise fitting: each step moves the (dimension, value) whose lines' relative miss is most
# concentrated (largest reduction of the weighted squared miss) halfway to its group mean, until what is
# left is noise. Like the lasso it explains a miss with the fewest values, so a cause is not smeared over
# the many collinear dimensions; halfway steps let two overlapping causes share fairly.
STEP = 0.5
MAX_STEPS = 400
MIN_GAIN = 1e-4


@dataclass(frozen=True)
class Posted:
    line: dict[str, Any]
    forecast: float
    actual: float


def values(line: dict[str, Any], window_start: date) -> dict[str, str]:
    day = date.fromisoformat(line["scheduled_on"])
    return {"creator": line["creator_id"], "platform": line["platform"], "format": line["format"],
            "market": line["market"], "message": line["variant_id"] or "none",
            "timing": f"week {(day - window_start).days // 7 + 1}", "weekday": WEEKDAYS[day.weekday()]}  # fmt: skip


def explained(posted: list[Posted], keys: list[dict[str, str]]) -> dict[tuple[str, str], float]:
    """(dimension, value) -> the miss that value explains, by forward stagewise fitting (see module doc)."""
    f = np.array([p.forecast for p in posted])
    w = f / max(float(f.mean()), 1e-9)
    r = np.array([(p.actual - p.forecast) / p.forecast if p.forecast > 0 else 0.0 for p in posted])
    groups = {(d, v): np.array([k[d] == v for k in keys]) for d in DIMENSIONS for v in {k[d] for k in keys}}
    mass = {c: float(w[g].sum()) for c, g in groups.items()}
    out = dict.fromkeys(groups, 0.0)
    floor = MIN_GAIN * float((w * r * r).sum())
    for _ in range(MAX_STEPS):
        gains = {c: float((w[g] * r[g]).sum()) ** 2 / mass[c] for c, g in groups.items() if mass[c] > 0}
        best = max(gains, key=lambda c: gains[c])
        if gains[best] <= floor:
            break
        g = groups[best]
        beta = STEP * float((w[g] * r[g]).sum()) / mass[best]
        r[g] -= beta
        out[best] += beta * float(f[g].sum())
    return out


def decompose(posted: list[Posted], window_start: date) -> list[dict[str, Any]]:
    """Contributions per dimension value, largest absolute explained miss first."""
    total = sum(p.actual - p.forecast for p in posted)
    keys = [values(p.line, window_start) for p in posted]
    groups: dict[tuple[str, str], list[Posted]] = defaultdict(list)
    for p, k in zip(posted, keys, strict=True):
        for d in DIMENSIONS:
            groups[(d, k[d])].append(p)
    effect = explained(posted, keys) if posted else {}
    out = []
    for (d, v), ps in groups.items():
        fc, ac = sum(p.forecast for p in ps), sum(p.actual for p in ps)
        out.append({"dimension": d, "value": v, "forecast": round(fc, 2), "actual": round(ac, 2),
                    "miss": round(ac - fc, 2), "share_of_miss": round((ac - fc) / total, 4) if total else 0.0,
                    "explained_miss": round(effect[(d, v)], 2)})  # fmt: skip
    return sorted(out, key=lambda c: (-abs(c["explained_miss"]), -abs(c["miss"]), c["dimension"], c["value"]))


def build(campaign_id: str, state: PlanState, actuals: dict[str, LineResult],
          behind: Behind | None = None) -> CampaignRetrospectiveReady:  # fmt: skip
    """The retrospective of a plan and its results (posted lines only: a post never made has no actual),
    with the decisions behind each line when `behind` is given."""
    metric = state.settings.metric
    posted, out_lines, spend = [], [], 0.0
    for line in state.lines:
        f = next(x for x in line["forecast"] if x["metric"] == metric)
        r = actuals.get(line["line_id"])
        actual = r.metrics.get(metric) if r else None
        line_spend = (r.spend_usd or line["cost_usd"]) if r else 0.0
        spend += line_spend
        if actual is not None:
            posted.append(Posted(line, f["p50"], float(actual)))
        out_lines.append(RetrospectiveLine(
            line_id=line["line_id"], creator_id=line["creator_id"], platform=line["platform"], format=line["format"],
            market=line["market"], variant_id=line["variant_id"], forecast_p10=f["p10"], forecast_p50=f["p50"],
            forecast_p90=f["p90"], actual=actual, spend_usd=round(line_spend, 2),
            **(behind.of(line, r.metrics if r else None) if behind else {})))  # fmt: skip
    verdict = messaging.analyse(messaging.observations(state.lines, {k: v.metrics for k, v in actuals.items()}, metric),
                                state.variant_ids())  # fmt: skip
    return CampaignRetrospectiveReady(
        campaign_id=campaign_id, metric=metric, forecast_total=round(sum(p.forecast for p in posted), 2),
        actual_total=round(sum(p.actual for p in posted), 2), spend_usd=round(spend, 2),
        contributions=[Contribution.model_validate(c) for c in decompose(posted, state.settings.window_start)],
        lines=out_lines, message_winner=verdict.winner,
        message_win_probability=verdict.prob_best.get(verdict.leader) if verdict.leader else None,
        message_summary=verdict.summary, computed_at=datetime.now(UTC),
    )  # fmt: skip


def close(session: Session, outbox: Outbox, org_id: str, event: CampaignCloseRequested) -> Retrospective:
    """Compute, store and publish the retrospective once; closing again changes nothing."""
    if (done := session.get(Retrospective, (org_id, event.campaign_id))) is not None:
        return done
    row = store.latest(session, org_id, event.campaign_id)
    if row is not None:
        state = PlanState.from_json(row.state)
    else:  # closed before any plan: an empty retrospective still tells the read model it is done
        state = PlanState(settings=_empty_settings(session, org_id, event.campaign_id), variants=[])
    retro = build(
        event.campaign_id,
        state,
        store.results_by_line(session, org_id, event.campaign_id),
        Behind(session, org_id, event.campaign_id),
    )
    done = Retrospective(org_id=org_id, campaign_id=event.campaign_id, payload=retro.model_dump(mode="json"),
                         closed_by=event.closed_by, computed_at=retro.computed_at)  # fmt: skip
    session.add(done)
    outbox.stage(session, retro, org_id=org_id)
    return done


def _empty_settings(session: Session, org_id: str, campaign_id: str) -> PlanSettings:
    c = session.get(Campaign, (org_id, campaign_id))
    objective = c.objective if c else "awareness"
    start = (c.starts_on if c else None) or datetime.now(UTC).date()
    return PlanSettings(objective=objective, metric=OBJECTIVE_METRIC[objective], window_start=start,
                        window_end=(c.ends_on if c else None) or start, budget_usd=c.budget_usd if c else None,
                        min_spacing_days=1, max_posts_per_week=1, formats=[])  # fmt: skip
