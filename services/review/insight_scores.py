"""Scoring people's knowledge against what happened: trend calls (whose calls to trust) and lesson rules
(did following them pay off).

Both compare results with the forecast made before them: a result's forecast is its plan line's (by
line_id) or else the forecast the forecast service published for that creator, campaign, platform and
format. A trend call is scored once it has expired or has TREND_RESULTS matching results posted after the
call: it is a hit when the median actual/forecast of those results moved the way it said (above 1 for
"up", below 1 for "down"). A lesson's rule (metric x multiplier) paid off on the results in its scope
after it was written when applying it would have brought the forecast closer (lower median absolute
percentage error than the raw forecast).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median
from typing import Any

from sqlmodel import Session, select

from services.review.campaigns import MAIN_METRIC
from services.review.models import Campaign, CampaignLine, ForecastSeen, Lesson, OutcomeSeen, TrendCall
from services.review.schemas import TrendOut
from shared.vocabulary import FORMATS

TREND_RESULTS = 5  # results enough to score a trend call before it expires
MIN_LESSON_RESULTS = 3  # fewer results in a lesson's scope say nothing about its rule


@dataclass(frozen=True)
class Observed:
    """A result with the forecast made for it (p50 per metric) and its campaign's category and metric."""

    result: OutcomeSeen
    p50: dict[str, float]
    category: str
    main_metric: str

    def ratio(self, metric: str) -> float | None:
        forecast = self.p50.get(metric)
        actual = float(getattr(self.result, metric))
        return actual / forecast if forecast else None


def _p50s(metrics: list[dict[str, Any]]) -> dict[str, float]:
    return {m["metric"]: float(m["p50"]) for m in metrics}


def observed(session: Session, org_id: str) -> list[Observed]:
    """Every result of the organisation that has a forecast to compare with."""
    results = list(session.exec(select(OutcomeSeen).where(OutcomeSeen.org_id == org_id)))
    lines: dict[tuple[str, str | None], list[dict[str, Any]]] = {(r.campaign_id, r.line_id): r.forecast
             for r in session.exec(select(CampaignLine).where(CampaignLine.org_id == org_id))}  # fmt: skip
    seen = {(f.campaign_id, f.creator_id, f.platform, f.format): f.metrics
            for f in session.exec(select(ForecastSeen).where(ForecastSeen.org_id == org_id))}  # fmt: skip
    info = {c.campaign_id: (c.category, MAIN_METRIC.get(c.objective, "reach"))
            for c in session.exec(select(Campaign).where(Campaign.org_id == org_id))}  # fmt: skip
    out = []
    for r in results:
        metrics = lines.get((r.campaign_id, r.line_id)) or seen.get(
            (r.campaign_id, r.creator_id, r.platform, r.format)
        )
        if metrics:
            category, metric = info.get(r.campaign_id, ("", "reach"))
            out.append(Observed(r, _p50s(metrics), category, metric))
    return out


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _trend_matches(t: TrendCall, o: Observed) -> bool:
    r = o.result
    topic = t.topic_or_format.lower()
    about = r.format == topic if topic in FORMATS else topic == o.category
    after = _aware(t.called_at) <= _aware(r.posted_at) and r.posted_at.date() <= t.expires_on
    return r.market == t.market and (t.platform is None or r.platform == t.platform) and about and after


def score_trend(t: TrendCall, seen: list[Observed], today: datetime) -> TrendOut:
    ratios = [x for o in seen if _trend_matches(t, o) and (x := o.ratio(o.main_metric)) is not None]
    out = TrendOut.model_validate(t, from_attributes=True)
    out.results = len(ratios)
    if ratios:
        out.actual_vs_forecast = round(median(ratios), 3)
    expired = t.expires_on < today.date()
    if len(ratios) >= TREND_RESULTS or (expired and ratios):
        went_up = median(ratios) > 1
        out.status = "hit" if went_up == (t.direction == "up") else "miss"
    elif expired:
        out.status = "no_results"
    return out


def scored_trends(session: Session, org_id: str, rows: list[TrendCall]) -> list[TrendOut]:
    seen = observed(session, org_id) if rows else []
    today = datetime.now(UTC)
    return [score_trend(t, seen, today) for t in rows]


def trust_report(scored: list[TrendOut]) -> list[dict[str, Any]]:
    """Per author: calls, scored calls, hits, hit rate and the Brier score of their stated confidence
    (lower is better: a confident expert who is often wrong scores worse than a cautious one)."""
    by_author: dict[str, list[TrendOut]] = defaultdict(list)
    for t in scored:
        by_author[t.author].append(t)
    rows = []
    for author, calls in sorted(by_author.items()):
        judged = [t for t in calls if t.status in ("hit", "miss")]
        hits = sum(t.status == "hit" for t in judged)
        brier = (
            (sum((t.confidence - (t.status == "hit")) ** 2 for t in judged) / len(judged)) if judged else None
        )
        rows.append({"author": author, "calls": len(calls), "scored": len(judged), "hits": hits,
                     "hit_rate": round(hits / len(judged), 3) if judged else None,
                     "brier": round(brier, 3) if brier is not None else None})  # fmt: skip
    return sorted(rows, key=lambda r: (r["hit_rate"] is None, -(r["hit_rate"] or 0), r["author"]))


def _lesson_matches(lesson: Lesson, o: Observed) -> bool:
    r = o.result
    if lesson.market is not None and r.market != lesson.market:
        return False
    value = {"market": r.market, "platform": r.platform, "format": r.format, "creator": r.creator_id,
             "category": o.category, "message": r.variant or ""}.get(lesson.scope)  # fmt: skip
    return value == lesson.scope_value and _aware(r.posted_at) >= _aware(lesson.recorded_at)


def _mdape(pairs: list[tuple[float, float]]) -> float:
    return round(median(abs(f - a) / a for a, f in pairs), 3)


def lesson_payoffs(session: Session, org_id: str) -> list[dict[str, Any]]:
    """Each lesson with a rule: on the later results in its scope, the raw forecast's error and the error
    had the rule been applied, and whether it paid off."""
    lessons = list(session.exec(select(Lesson).where(Lesson.org_id == org_id, Lesson.multiplier != None)))  # noqa: E711
    seen = observed(session, org_id) if lessons else []
    rows = []
    for lesson in lessons:
        metric, mult = str(lesson.metric), float(lesson.multiplier or 1)
        pairs = [(float(getattr(o.result, metric)), o.p50[metric]) for o in seen
                 if _lesson_matches(lesson, o) and o.p50.get(metric) and getattr(o.result, metric) > 0]  # fmt: skip
        enough = len(pairs) >= MIN_LESSON_RESULTS
        raw = _mdape(pairs) if enough else None
        ruled = _mdape([(a, f * mult) for a, f in pairs]) if enough else None
        rows.append({"lesson_id": lesson.lesson_id, "author": lesson.author, "scope": lesson.scope,
                     "scope_value": lesson.scope_value, "rule": lesson.rule or f"{metric} x {mult:g}",
                     "results": len(pairs), "raw_mdape": raw, "with_rule_mdape": ruled,
                     "paid_off": None if raw is None or ruled is None else ruled < raw})  # fmt: skip
    return rows
