"""People's decisions: who may decide, the agreement rule of two-person reviews, escalation.

A decision is refused with the reason when the task is already decided, the person is not a reviewer
here, does not cover the task's market, or the task is someone else's. Re-sending the same decision is
applied once. Every review keeps who, when, what (checklist, notes, question), which is the audit trail.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.review import assignment, campaigns, relationships, tasks
from services.review.models import ReviewAssignment, Reviewer, ReviewTask
from services.review.schemas import DecisionIn, DecisionOut, RelationshipIn
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.errors import Conflict, Forbidden
from shared.events import ReviewEscalated
from shared.vocabulary import Decision


def reviewer_for(
    session: Session, org_id: str, who: str, task: ReviewTask, *, assigned: bool = False
) -> Reviewer:
    """The registered, active reviewer `who`, if they cover the task's market (or were assigned it, as a
    manager may be an escalation outside their markets); refused otherwise."""
    stmt = select(Reviewer).where(Reviewer.org_id == org_id, Reviewer.reviewer_id == who)
    person = session.exec(stmt).first()
    if person is None or not person.active:
        raise Forbidden(f"{who} is not an active reviewer of this organisation", field="reviewer")
    if task.market and task.market not in person.markets and not assigned:
        raise Forbidden(
            f"{who} does not cover market {task.market} (covers {', '.join(person.markets)})",
            field="reviewer",
        )
    return person


def _out(review: ReviewAssignment, task: ReviewTask) -> DecisionOut:
    assert review.decision is not None and review.decided_at is not None
    return DecisionOut(
        decision_id=review.assignment_id,
        task_id=task.task_id,
        decision=review.decision,
        decided_by=review.reviewer_id,
        automated=False,
        notes=review.notes,
        decided_at=review.decided_at,
        final=task.status == "decided",
        task_status=task.status,
        escalated=task.escalated,
        via=review.via,
    )


def _claim(session: Session, task: ReviewTask, person: Reviewer, now: datetime) -> ReviewAssignment:
    """Take a free place on the task, or say whose task it is."""
    role = "escalation" if task.escalated else "reviewer"
    if role == "escalation" and not person.is_manager:
        raise Forbidden(f"task {task.task_id} is escalated: a manager decides it", field="reviewer")
    mine = [
        a for a in tasks.assignments_of(session, task.task_id) if a.role == role and a.status != "released"
    ]
    places = 1 if role == "escalation" else task.required_reviews
    if len(mine) >= places:
        others = ", ".join(a.reviewer_id for a in mine if a.status == "open")
        raise Forbidden(
            f"task {task.task_id} is assigned to {others}, not {person.reviewer_id}", field="reviewer"
        )
    row = ReviewAssignment(
        assignment_id=f"asg-{uuid.uuid4().hex[:12]}",
        org_id=task.org_id,
        task_id=task.task_id,
        reviewer_id=person.reviewer_id,
        role=role,
        status="open",
        assigned_at=now,
        due_at=task.due_at,
    )
    session.add(row)
    return row


def decide(
    session: Session,
    org_id: str,
    task_id: str,
    body: DecisionIn,
    outbox: Outbox,
    escalation_hours: int = 24,
    via: str = "",
) -> tuple[DecisionOut, bool]:
    """A person's decision (`body.reviewer`, the authenticated person; `via` the service key that acted
    for them, if any); returns it and whether it was new (False: the same decision was re-sent).

    One person holds one place on a task whatever key or session they use, so no principal can fill
    both places of a two-reviewer task."""
    # Lock the task row (PostgreSQL) so two submissions for one task run one after the other and the
    # second sees what the first did: a double-submit is then a re-send, not a second decision.
    task = tasks.task_row(session, org_id, task_id, for_update=True)
    stmt = select(ReviewAssignment).where(
        ReviewAssignment.task_id == task_id, ReviewAssignment.reviewer_id == body.reviewer
    )
    mine = session.exec(stmt).first()
    if mine is not None and mine.status == "done":
        if mine.decision == body.decision:
            return _out(mine, task), False
        raise Conflict(f"task {task_id} was already decided ({mine.decision} by {mine.reviewer_id})")
    final = tasks.final_decision(session, task_id)
    if final is not None:
        raise Conflict(f"task {task_id} was already decided ({final.decision} by {final.decided_by})")
    if task.escalated and mine is not None and mine.role != "escalation":
        raise Forbidden(f"task {task_id} is escalated ({task.escalation_reason}): a manager decides it",
                        field="reviewer")  # fmt: skip
    assigned = mine is not None and mine.status == "open"
    person = reviewer_for(session, org_id, body.reviewer, task, assigned=assigned)
    now = datetime.now(UTC)
    if mine is None:  # not assigned: take a free place if there is one
        mine = _claim(session, task, person, now)
    _record(mine, body, now)
    mine.via = via
    session.add(mine)
    session.flush()
    _settle(session, task, mine, body, outbox, escalation_hours)
    return _out(mine, task), True


def _record(review: ReviewAssignment, body: DecisionIn, now: datetime) -> None:
    review.status = "done"
    review.decision = body.decision
    review.checklist = {k: v.model_dump() for k, v in body.checklist.items()}
    review.notes = body.notes
    review.question = body.question
    review.decided_at = now


def _settle(
    session: Session,
    task: ReviewTask,
    review: ReviewAssignment,
    body: DecisionIn,
    outbox: Outbox,
    escalation_hours: int,
) -> None:
    """Apply the agreement rule: an escalation decides alone; otherwise all required people must agree."""
    if review.role == "escalation":
        _final(session, task, body.decision, _named(review), body, outbox)
        return
    done = [
        a for a in tasks.assignments_of(session, task.task_id) if a.role == "reviewer" and a.status == "done"
    ]
    if len(done) < task.required_reviews:
        return
    verdicts = {a.decision for a in done}
    if len(verdicts) == 1:
        _final(session, task, body.decision, ", ".join(_named(a) for a in done), body, outbox)
        return
    said = ", ".join(f"{a.reviewer_id} {a.decision}" for a in done)
    escalate(session, task, f"reviewers disagree: {said}", outbox, escalation_hours)


def _named(review: ReviewAssignment) -> str:
    """A reviewer as the audit trail names them: with the service key that acted for them, if any."""
    return f"{review.reviewer_id} via {review.via}" if review.via else review.reviewer_id


def _final(
    session: Session, task: ReviewTask, decision: Decision, who: str, body: DecisionIn, outbox: Outbox
) -> None:
    notes = body.notes if decision != "needs_info" else f"{body.notes}\nquestion: {body.question}".strip()
    tasks.finalize(session, task, decision, who, notes, outbox, automated=False)
    campaigns.task_decided(session, task.org_id, task.campaign_id, outbox)
    if decision == "needs_info" or task.route == "audit":
        return
    rel = body.checklist.get("relationship")
    note = rel.note if rel and rel.note else body.notes
    status = "proposed" if decision == "approve" else "declined"
    entry = RelationshipIn(campaign_id=task.campaign_id, status=status, notes=note[:4000], author=who[:100])
    relationships.record(session, task.org_id, task.creator_id, entry, outbox)


def escalate(session: Session, task: ReviewTask, reason: str, outbox: Outbox, hours: int) -> None:
    """Flag the task, give it to a manager (over capacity if all are full: assignment.managers_for),
    release the reviewers' open places (only the manager decides now), publish ReviewEscalated."""
    now = datetime.now(UTC)
    task.escalated, task.escalation_reason = True, reason[:500]
    task.due_at = now + timedelta(hours=hours)
    session.add(task)
    for open_place in tasks.assignments_of(session, task.task_id):
        if open_place.status == "open":
            open_place.status = "released"
            session.add(open_place)
    people = assignment.reviewers(session, task.org_id)
    loads = assignment.open_loads(session, task.org_id)
    assignment.assign(session, task, people, loads, 1, "escalation", task.due_at, now)
    event = ReviewEscalated(
        task_id=task.task_id,
        campaign_id=task.campaign_id,
        creator_id=task.creator_id,
        reason=task.escalation_reason,
        escalated_at=now,
    )
    outbox.stage(session, event, org_id=task.org_id)


def decide_once(
    db: Database,
    org_id: str,
    task_id: str,
    body: DecisionIn,
    outbox: Outbox,
    escalation_hours: int = 24,
    via: str = "",
) -> tuple[DecisionOut, bool]:
    """`decide` in its own transaction, retried once if a concurrent submission won a unique-key race
    (two people claiming the last place, or SQLite, which has no row locks); the retry sees its result."""
    for attempt in (1, 2):
        try:
            with db.transaction() as session:
                return decide(session, org_id, task_id, body, outbox, escalation_hours, via)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
