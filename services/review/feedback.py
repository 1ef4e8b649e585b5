"""How people's decisions and forecast adjustments compared with outcomes and with the model.

An outcome is a "hit" when the post's reach met the model's median forecast for it: an unbiased model hits
about half the time, so a reviewer whose approvals hit more often adds judgment the model lacks. Rejected
creators rarely post, so only audited auto-approvals show whether a rejection was right.
"""

from __future__ import annotations

import itertools
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from services.review import insight_scores, insights
from services.review.models import (
    AdjustmentSent,
    ForecastSeen,
    OutcomeSeen,
    ReviewAssignment,
    ReviewDecision,
    ReviewTask,
)
from services.review.tasks import AUTO_REVIEWER
from shared.events import CampaignResultReported

MIN_N = 5  # fewer judged cases than this say nothing about a person or a segment
SIZES = ((10_000, "nano"), (100_000, "micro"), (1_000_000, "mid"))


def remember(session: Session, org_id: str, event: CampaignResultReported) -> None:
    if session.get(OutcomeSeen, (org_id, event.result_id)) is not None:
        return
    session.add(
        OutcomeSeen(org_id=org_id, **event.model_dump(include=set(OutcomeSeen.model_fields) - {"org_id"}))
    )


def size_of(followers: int) -> str:
    return next((name for limit, name in SIZES if followers < limit), "macro")


@dataclass(frozen=True)
class Judged:
    """One decision by one person (or the policy) on a creator whose post then reported results."""

    who: str
    automated: bool
    decision: str
    tier: str
    market: str
    size: str
    match_score: float
    reach: float
    forecast_p50: float | None

    @property
    def hit(self) -> bool | None:
        return None if self.forecast_p50 is None else self.reach >= self.forecast_p50


def _reach_p50(forecast: ForecastSeen | None) -> float | None:
    return next((m["p50"] for m in forecast.metrics if m["metric"] == "reach"), None) if forecast else None


def judged(session: Session, org_id: str) -> list[Judged]:
    """Every human and automated decision on tasks whose creator posted with results."""
    outcomes = {
        (o.campaign_id, o.creator_id): o
        for o in session.exec(select(OutcomeSeen).where(OutcomeSeen.org_id == org_id))
    }
    forecasts = {
        (f.campaign_id, f.creator_id): f
        for f in session.exec(select(ForecastSeen).where(ForecastSeen.org_id == org_id))
    }
    tasks = {t.task_id: t for t in session.exec(select(ReviewTask).where(ReviewTask.org_id == org_id))
             if (t.campaign_id, t.creator_id) in outcomes}  # fmt: skip
    votes: list[tuple[str, str, bool, str]] = [
        (a.task_id, a.reviewer_id, False, a.decision)
        for a in session.exec(select(ReviewAssignment).where(ReviewAssignment.org_id == org_id,
                                                             col(ReviewAssignment.decision).is_not(None)))
        if a.decision
    ]  # fmt: skip
    votes += [(d.task_id, AUTO_REVIEWER, True, d.decision)
              for d in session.exec(select(ReviewDecision).where(ReviewDecision.org_id == org_id,
                                                                 col(ReviewDecision.automated)))]  # fmt: skip
    out = []
    for task_id, who, automated, decision in votes:
        if (task := tasks.get(task_id)) is None:
            continue
        key = (task.campaign_id, task.creator_id)
        followers = int(task.entry.get("creator", {}).get("followers", 0))
        out.append(Judged(who, automated, decision, task.tier, task.market, size_of(followers), task.match_score,
                          outcomes[key].reach, _reach_p50(forecasts.get(key))))  # fmt: skip
    return out


def _rate(values: Iterable[bool]) -> float | None:
    v = list(values)
    return round(float(np.mean(v)), 4) if v else None


def decision_stats(items: list[Judged]) -> dict[str, Any]:
    approvals = [j.hit for j in items if j.decision == "approve" and j.hit is not None]
    rejections = [not j.hit for j in items if j.decision == "reject" and j.hit is not None]
    return {"decisions": len(items), "approvals_judged": len(approvals), "approval_hit_rate": _rate(approvals),
            "rejections_judged": len(rejections), "rejection_right_rate": _rate(rejections)}  # fmt: skip


def _grouped(items: list[Any], key: Callable[[Any], Any]) -> dict[tuple[str, ...], list[Any]]:
    groups: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    for item in items:
        k = key(item)
        groups[k if isinstance(k, tuple) else (k,)].append(item)
    return dict(sorted(groups.items()))


def calibration(items: list[Judged], bins: int = 5) -> list[dict[str, Any]]:
    """Hit rate of approvals by match-score band, for the policy and for people: is a higher score a safer bet?"""
    edges = np.linspace(0, 1, bins + 1)
    rows = []
    for lo, hi in itertools.pairwise(edges):
        band = [j for j in items if lo <= j.match_score < hi or (hi == 1 and j.match_score == 1)]
        for automated in (True, False):
            hits = [
                bool(j.hit)
                for j in band
                if j.automated == automated and j.decision == "approve" and j.hit is not None
            ]
            rows.append({"match_from": round(float(lo), 2), "match_to": round(float(hi), 2),
                         "who": "policy" if automated else "people", "n": len(hits), "hit_rate": _rate(hits)})  # fmt: skip
    return rows


def _interval(p: dict[str, Any], adj: AdjustmentSent) -> tuple[float, float, float]:
    """The adjusted interval exactly as the forecast service computes it (scaled, or median moved)."""
    if adj.multiplier is not None:
        factor = adj.multiplier
    else:
        factor = (adj.absolute_value or 0.0) / p["p50"] if p["p50"] > 0 else 0.0
    return (p["p10"] * factor, p["p50"] * factor, p["p90"] * factor)


def _error(actual: float, q: tuple[float, float, float]) -> tuple[float | None, bool]:
    return (abs(actual - q[1]) / actual if actual > 0 else None), q[0] <= actual <= q[2]


def adjustment_rows(session: Session, org_id: str) -> list[dict[str, Any]]:
    """One row per adjustment whose post has results: raw and adjusted error and interval hit."""
    forecasts = {
        f.forecast_id: f for f in session.exec(select(ForecastSeen).where(ForecastSeen.org_id == org_id))
    }
    outcomes = {
        (o.campaign_id, o.creator_id): o
        for o in session.exec(select(OutcomeSeen).where(OutcomeSeen.org_id == org_id))
    }
    rows = []
    for adj in session.exec(select(AdjustmentSent).where(AdjustmentSent.org_id == org_id)):
        forecast = forecasts.get(adj.forecast_id)
        outcome = outcomes.get((forecast.campaign_id, forecast.creator_id)) if forecast else None
        metric = next((m for m in forecast.metrics if m["metric"] == adj.metric), None) if forecast else None
        actual = getattr(outcome, adj.metric, None) if outcome else None
        if forecast is None or metric is None or actual is None:
            continue
        raw_ape, raw_in = _error(actual, (metric["p10"], metric["p50"], metric["p90"]))
        adj_ape, adj_in = _error(actual, _interval(metric, adj))
        rows.append({"author": adj.author, "market": adj.market or forecast.market, "metric": adj.metric,
                     "raw_ape": raw_ape, "adjusted_ape": adj_ape, "raw_in": raw_in, "adjusted_in": adj_in})  # fmt: skip
    return rows


def _median(values: Iterable[float | None]) -> float | None:
    v = [x for x in values if x is not None]
    return round(float(np.median(v)), 4) if v else None


def adjustment_stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    raw, adjusted = _median(r["raw_ape"] for r in rows), _median(r["adjusted_ape"] for r in rows)
    return {"n": len(rows), "raw_mdape": raw, "adjusted_mdape": adjusted,
            "gain": round(raw - adjusted, 4) if raw is not None and adjusted is not None else None,
            "raw_coverage80": _rate(r["raw_in"] for r in rows),
            "adjusted_coverage80": _rate(r["adjusted_in"] for r in rows)}  # fmt: skip


def people_report(session: Session, org_id: str) -> dict[str, Any]:
    """Per reviewer and market: decisions vs outcomes, adjustments vs the raw model, and calibration."""
    items = judged(session, org_id)
    adjustments = adjustment_rows(session, org_id)
    return {
        "definition": "hit = the post's reach met the model's median forecast; gain = raw MdAPE - adjusted MdAPE",
        "decisions": [{"who": who, "market": market, **decision_stats(g)}
                      for (who, market), g in _grouped(items, lambda j: (j.who, j.market)).items()],
        "adjustments": [{"author": a, "market": m, "metric": metric, **adjustment_stats(g)}
                        for (a, m, metric), g in _grouped(adjustments, lambda r: (r["author"], r["market"], r["metric"])).items()],
        "calibration": calibration(items),
        **knowledge_report(session, org_id),
    }  # fmt: skip


def knowledge_report(session: Session, org_id: str) -> dict[str, Any]:
    """People's knowledge against results: whose trend calls to trust, and did lesson rules pay off."""
    scored = insight_scores.scored_trends(session, org_id, insights.trend_rows(session, org_id))
    return {
        "trend_calls": insight_scores.trust_report(scored),
        "lessons": insight_scores.lesson_payoffs(session, org_id),
    }


def _verdict(people: dict[str, Any], policy: dict[str, Any], margin: float) -> str:
    p, a = people["approval_hit_rate"], policy["approval_hit_rate"]
    if p is None or a is None or min(people["approvals_judged"], policy["approvals_judged"]) < MIN_N:
        return "not enough results"
    if p - a >= margin:
        return "people add value"
    return "automate" if p - a <= 0 else "about even"


def value_report(session: Session, org_id: str, margin: float = 0.1) -> dict[str, Any]:
    """Where people beat the policy (by tier, market, creator size), and thresholds the routing can use."""
    items = judged(session, org_id)
    segments = []
    for dimension in ("tier", "market", "size"):
        for (value,), group in _grouped(items, operator.attrgetter(dimension)).items():
            people = decision_stats([j for j in group if not j.automated])
            policy = decision_stats([j for j in group if j.automated])
            segments.append({"dimension": dimension, "value": value, "people": people, "policy": policy,
                             "verdict": _verdict(people, policy, margin)})  # fmt: skip
    adjustments = adjustment_rows(session, org_id)
    by_market = [
        {"market": m, **adjustment_stats(g)}
        for (m,), g in _grouped(adjustments, lambda r: (r["market"],)).items()
    ]
    return {"segments": segments, "adjustments_by_market": by_market,
            "suggestions": suggestions(items, segments, by_market)}  # fmt: skip


def suggestions(
    items: list[Judged], segments: list[dict[str, Any]], by_market: list[dict[str, Any]]
) -> dict[str, Any]:
    """Inputs for the routing policy: the match score from which the policy does as well as people, and the
    segments and markets to keep in front of people."""
    people_rate = decision_stats([j for j in items if not j.automated])["approval_hit_rate"]
    bands = [
        r
        for r in calibration(items)
        if r["who"] == "policy" and r["n"] >= MIN_N and r["hit_rate"] is not None
    ]
    safe = [r["match_from"] for r in bands if people_rate is not None and r["hit_rate"] >= people_rate]
    return {
        "auto_approve_min_match": min(safe) if safe else None,
        "send_to_people": [
            f"{s['dimension']}={s['value']}" for s in segments if s["verdict"] == "people add value"
        ],
        "automate": [f"{s['dimension']}={s['value']}" for s in segments if s["verdict"] == "automate"],
        "markets_where_adjustments_help": [
            m["market"] for m in by_market if (m["gain"] or 0) > 0 and m["n"] >= MIN_N
        ],
    }
