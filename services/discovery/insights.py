"""Lessons and trend calls from review (campaign.insights.v1): stored, then shown on briefs in their scope.

A lesson applies to a brief when its scope names one of the brief's markets, its category, one of its
platforms or one of the shortlisted creators; format, message and timing lessons are about content plans,
so they apply to every brief in their market (or everywhere when they name none). A trend call applies
while it has not expired, in its market, on its platform (or any platform when it names none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from services.discovery.models import Insight
from services.discovery.schemas import BriefIn, InsightOut
from shared.events import LessonRecorded, TrendCalled

PLAN_SCOPES = frozenset({"format", "message", "timing"})


@dataclass(frozen=True)
class InScope:
    lessons: list[InsightOut] = field(default_factory=list)
    trends: list[InsightOut] = field(default_factory=list)


def record_lesson(session: Session, org_id: str, event: LessonRecorded) -> None:
    if session.get(Insight, event.lesson_id) is not None:
        return
    session.add(
        Insight(
            insight_id=event.lesson_id, org_id=org_id, kind="lesson", scope=event.scope,
            scope_value=event.scope_value, market=event.market, text=event.text, rule=event.rule,
            campaign_id=event.campaign_id, author=event.author, recorded_at=event.recorded_at,
        )
    )  # fmt: skip


def record_trend(session: Session, org_id: str, event: TrendCalled) -> None:
    if session.get(Insight, event.trend_id) is not None:
        return
    session.add(
        Insight(
            insight_id=event.trend_id, org_id=org_id, kind="trend", scope="trend",
            scope_value=event.topic_or_format, market=event.market, platform=event.platform,
            text=event.reason, direction=event.direction, confidence=event.confidence,
            expires_on=event.expires_on, author=event.author, recorded_at=event.called_at,
        )
    )  # fmt: skip


def lesson_applies(row: Insight, brief: BriefIn, creator_ids: set[str]) -> bool:
    markets = set(brief.target_markets)
    if row.market is not None and row.market not in markets:
        return False
    return {
        "market": row.scope_value in markets,
        "category": row.scope_value == brief.category,
        "platform": row.scope_value in brief.platforms,
        "creator": row.scope_value in creator_ids,
    }.get(row.scope, row.scope in PLAN_SCOPES)


def trend_applies(row: Insight, brief: BriefIn, today: date) -> bool:
    live = row.expires_on is None or row.expires_on >= today
    platform_ok = row.platform is None or row.platform in brief.platforms
    return live and platform_ok and row.market in brief.target_markets


def _out(row: Insight) -> InsightOut:
    return InsightOut.model_validate(row, from_attributes=True)


def in_scope(session: Session, org_id: str, brief: BriefIn, creator_ids: list[str], today: date) -> InScope:
    rows = list(session.exec(select(Insight).where(Insight.org_id == org_id)))
    ids = set(creator_ids)
    newest_first = sorted(rows, key=lambda r: r.recorded_at, reverse=True)
    return InScope(
        lessons=[_out(r) for r in newest_first if r.kind == "lesson" and lesson_applies(r, brief, ids)],
        trends=[_out(r) for r in newest_first if r.kind == "trend" and trend_applies(r, brief, today)],
    )


def listed(session: Session, org_id: str, market: str) -> list[InsightOut]:
    stmt = select(Insight).where(Insight.org_id == org_id)
    if market:
        stmt = stmt.where(Insight.market == market)
    return [_out(r) for r in sorted(session.exec(stmt), key=lambda r: r.recorded_at, reverse=True)]
