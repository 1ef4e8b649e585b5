"""Who reviews a task: people who cover its market, least loaded first, never the same person twice.

Load is a person's open assignments over their daily capacity; someone at capacity takes nothing new, so
a task waits unassigned (and any covering reviewer may claim it) rather than piling onto one person.
Escalations are the exception: only managers take them, and when every manager is full the least loaded
one gets it over capacity (flagged in the manager view) rather than letting a dispute stall.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

from sqlmodel import Session, col, func, select

from services.review.models import ReviewAssignment, Reviewer, ReviewTask

# The main language of each market the platform knows, to prefer reviewers who speak it.
MARKET_LANGUAGE = {
    "US": "en", "GB": "en", "CA": "en", "RU": "ru", "KZ": "ru", "UA": "uk", "BR": "pt", "IN": "hi",
    "ID": "id", "MX": "es", "ES": "es", "AR": "es", "DE": "de", "FR": "fr", "TR": "tr", "IT": "it",
}  # fmt: skip


def task_market(target_markets: list[str], home_market: str, audience: list[dict[str, object]]) -> str:
    """The market a task is judged for: the creator's home market if targeted, else their top targeted one."""
    if home_market in target_markets:
        return home_market
    shares = {str(a["market"]): float(str(a["audience_share"])) for a in audience}
    targeted = sorted(target_markets, key=lambda m: -shares.get(m, 0.0))
    return targeted[0] if targeted else home_market


def open_loads(session: Session, org_id: str) -> Counter[str]:
    stmt = (
        select(ReviewAssignment.reviewer_id, func.count())
        .where(ReviewAssignment.org_id == org_id, ReviewAssignment.status == "open")
        .group_by(col(ReviewAssignment.reviewer_id))
    )
    return Counter({rid: int(n) for rid, n in session.exec(stmt)})


def reviewers(session: Session, org_id: str) -> list[Reviewer]:
    stmt = select(Reviewer).where(Reviewer.org_id == org_id, Reviewer.active == True)  # noqa: E712
    return list(session.exec(stmt.order_by(col(Reviewer.reviewer_id))))


def candidates(people: list[Reviewer], loads: Counter[str], market: str, exclude: set[str]) -> list[Reviewer]:
    """Eligible people for a market, best first: speaks the language, least loaded, in-house, by id."""
    language = MARKET_LANGUAGE.get(market)
    fit = [
        r
        for r in people
        if market in r.markets and r.reviewer_id not in exclude and loads[r.reviewer_id] < r.daily_capacity
    ]
    return sorted(
        fit,
        key=lambda r: (
            language not in r.languages,
            loads[r.reviewer_id] / r.daily_capacity,
            r.employment != "in_house",
            r.reviewer_id,
        ),
    )


def managers_for(
    people: list[Reviewer], loads: Counter[str], market: str, exclude: set[str]
) -> tuple[list[Reviewer], bool]:
    """Managers for an escalation, best first, and whether they are over capacity: those with room who
    cover the market, else those with room at all, else (everyone full) the least loaded, market first."""
    managers = [r for r in people if r.is_manager and r.reviewer_id not in exclude]
    with_room = candidates(managers, loads, market, exclude)
    if with_room:
        return with_room, False
    anywhere = [r for r in managers if loads[r.reviewer_id] < r.daily_capacity]
    if anywhere:
        return sorted(anywhere, key=lambda r: (loads[r.reviewer_id] / r.daily_capacity, r.reviewer_id)), False
    full = sorted(
        managers,
        key=lambda r: (market not in r.markets, loads[r.reviewer_id] / r.daily_capacity, r.reviewer_id),
    )
    return full, bool(full)


def assign(
    session: Session,
    task: ReviewTask,
    people: list[Reviewer],
    loads: Counter[str],
    how_many: int,
    role: str,
    due_at: datetime,
    now: datetime,
) -> list[ReviewAssignment]:
    """Assign up to `how_many` more people to `task`, updating `loads` so one batch spreads the work."""
    taken = {
        a.reviewer_id
        for a in session.exec(select(ReviewAssignment).where(ReviewAssignment.task_id == task.task_id))
    }
    over = False
    if role == "escalation":
        chosen, over = managers_for(people, loads, task.market, taken)
    else:
        chosen = candidates(people, loads, task.market, taken)
    rows = []
    for person in chosen[:how_many]:
        row = ReviewAssignment(
            assignment_id=f"asg-{uuid.uuid4().hex[:12]}",
            org_id=task.org_id,
            task_id=task.task_id,
            reviewer_id=person.reviewer_id,
            role=role,
            status="open",
            assigned_at=now,
            due_at=due_at,
            over_capacity=over,
        )
        session.add(row)
        loads[person.reviewer_id] += 1
        rows.append(row)
    return rows
