"""The review team: people, their markets and capacity, and each person's queue."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from services.review import accounts, assignment, signin
from services.review.models import ReviewAssignment, Reviewer, ReviewTask
from services.review.schemas import ReviewerIn, ReviewerOut
from shared.errors import NotFound


def _out(person: Reviewer, open_tasks: int = 0) -> ReviewerOut:
    out = ReviewerOut.model_validate(person, from_attributes=True)
    out.open_tasks, out.can_sign_in = open_tasks, bool(person.password_hash)
    return out


def get(session: Session, org_id: str, reviewer_id: str) -> Reviewer:
    stmt = select(Reviewer).where(Reviewer.org_id == org_id, Reviewer.reviewer_id == reviewer_id)
    person = session.exec(stmt).first()
    if person is None:
        raise NotFound(f"no reviewer {reviewer_id!r}", field="reviewer_id")
    return person


def upsert(session: Session, org_id: str, reviewer_id: str, body: ReviewerIn) -> ReviewerOut:
    """Create or update a person; a password given enables web sign-in (stored as a scrypt hash)."""
    stmt = select(Reviewer).where(Reviewer.org_id == org_id, Reviewer.reviewer_id == reviewer_id)
    person = session.exec(stmt).first() or Reviewer(
        org_id=org_id, reviewer_id=reviewer_id, name=body.name, employment=body.employment,
        daily_capacity=body.daily_capacity, created_at=datetime.now(UTC),
    )  # fmt: skip
    for name, value in body.model_dump(exclude={"password"}).items():
        setattr(person, name, value)
    if body.password:
        person.password_hash = accounts.hash_password(body.password)
    if body.password or not person.active:
        signin.end_all(session, org_id, reviewer_id)  # a new password or deactivation ends every sign-in
    session.add(person)
    session.flush()
    return _out(person, assignment.open_loads(session, org_id)[reviewer_id])


def team(session: Session, org_id: str) -> list[ReviewerOut]:
    loads = assignment.open_loads(session, org_id)
    stmt = select(Reviewer).where(Reviewer.org_id == org_id).order_by(col(Reviewer.reviewer_id))
    return [_out(p, loads[p.reviewer_id]) for p in session.exec(stmt)]


def authenticate(session: Session, org_id: str, reviewer_id: str, password: str) -> Reviewer | None:
    stmt = select(Reviewer).where(Reviewer.org_id == org_id, Reviewer.reviewer_id == reviewer_id)
    person = session.exec(stmt).first()
    if person is None or not person.active or not person.password_hash:
        accounts.check_password(password, accounts.DUMMY_HASH)  # same cost either way: no user probing
        return None
    return person if accounts.check_password(password, person.password_hash) else None


def queue(
    session: Session,
    person: Reviewer,
    campaign_id: str = "",
    market: str = "",
    due: str = "",
    now: datetime | None = None,
) -> list[tuple[ReviewTask, str]]:
    """Open tasks assigned to `person` (and unassigned ones they may claim), soonest due first.

    `due`: "overdue", "today" (due within 24 h) or "" for all. Each task comes with "assigned" or "claimable".
    """
    now = now or datetime.now(UTC)
    mine = select(ReviewAssignment.task_id).where(
        ReviewAssignment.reviewer_id == person.reviewer_id, ReviewAssignment.status == "open"
    )
    stmt = select(ReviewTask).where(
        ReviewTask.org_id == person.org_id,
        ReviewTask.status == "open",
        col(ReviewTask.market).in_(person.markets),
    )
    if campaign_id:
        stmt = stmt.where(ReviewTask.campaign_id == campaign_id)
    if market:
        stmt = stmt.where(ReviewTask.market == market)
    if due == "overdue":
        stmt = stmt.where(col(ReviewTask.due_at) < now)
    elif due == "today":
        stmt = stmt.where(col(ReviewTask.due_at) < now + timedelta(hours=24))
    assigned = set(session.exec(mine))
    found = list(session.exec(stmt.order_by(col(ReviewTask.due_at), col(ReviewTask.task_id)).limit(500)))
    rows = assignments_by_task(session, [t.task_id for t in found])
    out = []
    for task in found:
        if task.task_id in assigned:
            out.append((task, "assigned"))
        elif _claimable(task, rows.get(task.task_id, []), person):
            out.append((task, "claimable"))
    return out


def assignments_by_task(session: Session, task_ids: list[str]) -> dict[str, list[ReviewAssignment]]:
    """Assignments of many tasks in one query, instead of one query per task."""
    out: dict[str, list[ReviewAssignment]] = defaultdict(list)
    stmt = select(ReviewAssignment).where(col(ReviewAssignment.task_id).in_(task_ids))
    for a in session.exec(stmt):
        out[a.task_id].append(a)
    return out


def _claimable(task: ReviewTask, rows: list[ReviewAssignment], person: Reviewer) -> bool:
    if any(a.reviewer_id == person.reviewer_id for a in rows):
        return False  # already reviewed it (e.g. the first of two on a strategic task)
    role = "escalation" if task.escalated else "reviewer"
    if role == "escalation" and not person.is_manager:
        return False
    places = 1 if task.escalated else task.required_reviews
    return sum(a.role == role and a.status != "released" for a in rows) < places
