"""Lessons and trend calls: recorded as the signed-in principal, published, and shown where they apply.

A lesson applies to a review task when its scope names the task's market, the creator, one of the
creator's categories (or the campaign's) or the creator's platform, within the lesson's market if it names
one. Format, message and timing lessons are about content plans: they show on campaign pages. A trend call
applies to tasks and campaigns in its market (on its platform, if it names one) until it expires.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.review import campaigns
from services.review.models import Campaign, Lesson, ReviewTask, TrendCall
from services.review.schemas import CHECKLIST_ITEMS, LessonIn, LessonOut, TrendIn, TrendOut
from shared.bus.outbox import Outbox
from shared.events import LessonRecorded, TrendCalled

PLAN_SCOPES = frozenset({"format", "message", "timing"})


def record_lesson(session: Session, org_id: str, body: LessonIn, author: str, outbox: Outbox) -> LessonOut:
    c = campaigns.get(session, org_id, body.campaign_id)
    row = Lesson(lesson_id=f"les-{uuid.uuid4().hex[:12]}", org_id=org_id, author=author[:100],
                 recorded_at=datetime.now(UTC), **body.model_dump())  # fmt: skip
    session.add(row)
    outbox.stage(session, LessonRecorded(**row.model_dump(exclude={"org_id"})), org_id=org_id)
    campaigns.note(session, c, f"lesson:{row.lesson_id}", "lesson",
                   f"lesson ({row.scope} {row.scope_value}): {row.text}", author, row.recorded_at)  # fmt: skip
    return LessonOut.model_validate(row, from_attributes=True)


def call_trend(session: Session, org_id: str, body: TrendIn, author: str, outbox: Outbox) -> TrendOut:
    row = TrendCall(trend_id=f"trend-{uuid.uuid4().hex[:12]}", org_id=org_id, author=author[:100],
                    called_at=datetime.now(UTC), **body.model_dump())  # fmt: skip
    session.add(row)
    outbox.stage(session, TrendCalled(**row.model_dump(exclude={"org_id"})), org_id=org_id)
    return TrendOut.model_validate(row, from_attributes=True)


def lessons(session: Session, org_id: str, campaign_id: str = "", scope: str = "") -> list[LessonOut]:
    stmt = select(Lesson).where(Lesson.org_id == org_id)
    if campaign_id:
        stmt = stmt.where(Lesson.campaign_id == campaign_id)
    if scope:
        stmt = stmt.where(Lesson.scope == scope)
    rows = session.exec(stmt.order_by(col(Lesson.recorded_at).desc()))
    return [LessonOut.model_validate(r, from_attributes=True) for r in rows]


def trend_rows(session: Session, org_id: str, market: str = "") -> list[TrendCall]:
    stmt = select(TrendCall).where(TrendCall.org_id == org_id)
    if market:
        stmt = stmt.where(TrendCall.market == market)
    return list(session.exec(stmt.order_by(col(TrendCall.called_at).desc())))


def _lesson_matches(row: Lesson, market: str, values: dict[str, set[str]]) -> bool:
    if row.market is not None and row.market != market:
        return False
    return row.scope_value in values.get(row.scope, set())


def for_task(session: Session, task: ReviewTask, campaign: Campaign | None) -> list[LessonOut]:
    """Lessons in the task's scope: its market, creator, categories or platform."""
    creator = task.entry.get("creator", {})
    values = {
        "market": {task.market},
        "creator": {task.creator_id},
        "category": {*creator.get("categories", []), *([campaign.category] if campaign else [])},
        "platform": {creator.get("platform", "")},
    }
    rows = session.exec(
        select(Lesson).where(Lesson.org_id == task.org_id).order_by(col(Lesson.recorded_at).desc())
    )
    return [
        LessonOut.model_validate(r, from_attributes=True)
        for r in rows
        if _lesson_matches(r, task.market, values)
    ]


def for_campaign(session: Session, c: Campaign, creator_ids: set[str]) -> list[LessonOut]:
    """Lessons written on this campaign, and past lessons in its scope (any of its markets)."""
    values = {
        "market": set(c.markets),
        "creator": creator_ids,
        "category": {c.category},
        "platform": set(c.platforms),
    }
    rows = session.exec(
        select(Lesson).where(Lesson.org_id == c.org_id).order_by(col(Lesson.recorded_at).desc())
    )
    out = []
    for r in rows:
        in_market = r.market is None or r.market in c.markets
        scoped = r.scope_value in values.get(r.scope, set()) or r.scope in PLAN_SCOPES
        if r.campaign_id == c.campaign_id or (in_market and scoped):
            out.append(LessonOut.model_validate(r, from_attributes=True))
    return out


def live_trends(
    session: Session, org_id: str, markets: list[str], platforms: set[str] | None
) -> list[TrendOut]:
    """Trend calls not yet expired in these markets (on these platforms, when given)."""
    today = datetime.now(UTC).date()
    stmt = select(TrendCall).where(
        TrendCall.org_id == org_id, col(TrendCall.market).in_(markets), TrendCall.expires_on >= today
    )
    rows = session.exec(stmt.order_by(col(TrendCall.called_at).desc()))
    return [
        TrendOut.model_validate(r, from_attributes=True)
        for r in rows
        if platforms is None or r.platform is None or r.platform in platforms
    ]


def for_task_trends(session: Session, task: ReviewTask) -> list[TrendOut]:
    platform = task.entry.get("creator", {}).get("platform", "")
    return live_trends(session, task.org_id, [task.market], {platform})


def checklist(c: Campaign | None) -> dict[str, str]:
    """The reviewer checklist's prompts; the brief's brand values become the first prompt's question."""
    items = dict(CHECKLIST_ITEMS)
    if c is not None and c.brand_values:
        brand = c.brand or "the brand"
        values = ", ".join(f"'{v}'" for v in c.brand_values)
        items["brand_values"] = f"Does their content live {brand}'s values: {values}?"
    return items


def for_task_page(session: Session, task: ReviewTask) -> dict[str, Any]:
    """What a task shows from the campaign: lessons and trend calls in its scope, the checklist prompts."""
    c = session.get(Campaign, (task.org_id, task.campaign_id))
    return {
        "lessons": for_task(session, task, c),
        "trends": for_task_trends(session, task),
        "checklist": checklist(c),
    }
