"""People's decisions: two-person agreement on strategic finalists, escalation, refusals with reasons."""

from __future__ import annotations

import pytest
from sqlmodel import select

from services.review import decisions, tasks
from services.review.models import ReviewAssignment, ReviewTask
from services.review.routing import Policy
from services.review.schemas import ChecklistItem, DecisionIn
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.errors import Conflict, Forbidden
from shared.events import RelationshipUpdated, ReviewDecided, ReviewEscalated
from tests.review import helpers

POLICY = Policy(0.85, 0.25, 0.7, audit_sample_rate=0.0)
CHECKLIST = {"brand_values": ChecklistItem(rating=4, note="clean beauty"),
             "relationship": ChecklistItem(rating=5, note="worth a yearly deal")}  # fmt: skip


@pytest.fixture(autouse=True)
def team(db: Database) -> None:
    helpers.add_reviewer(db, "ann")
    helpers.add_reviewer(db, "bob")
    helpers.add_reviewer(db, "max", manager=True, capacity=5)
    helpers.add_reviewer(db, "olga", markets=["RU"])


def _strategic(db: Database, outbox: Outbox) -> ReviewTask:
    sl = helpers.shortlist([helpers.entry(1, "cr-star", 0.95, 0.05)], tier="strategic")
    (task,) = helpers.create(db, outbox, sl, POLICY)
    return task


def _decide(db: Database, outbox: Outbox, task_id: str, who: str, decision: str) -> tuple[bool, bool, bool]:
    body = DecisionIn(reviewer=who, decision=decision, notes=f"{who} says {decision}", checklist=CHECKLIST)  # type: ignore[arg-type]
    with db.transaction() as session:
        out, created = decisions.decide(session, helpers.ORG, task_id, body, outbox)
    return created, out.final, out.escalated


def _assignees(db: Database, task_id: str) -> dict[str, tuple[str, str]]:
    with db.transaction() as session:
        rows = session.exec(select(ReviewAssignment).where(ReviewAssignment.task_id == task_id)).all()
        return {a.reviewer_id: (a.role, a.status) for a in rows}


def test_strategic_task_is_assigned_to_two_people_by_load(db: Database, outbox: Outbox) -> None:
    task = _strategic(db, outbox)
    assert task.required_reviews == 2
    # Both ann and bob are idle; max is a manager with little capacity and so comes last.
    assert _assignees(db, task.task_id) == {"ann": ("reviewer", "open"), "bob": ("reviewer", "open")}


def test_strategic_agreement_decides_once_both_agree(db: Database, outbox: Outbox) -> None:
    task = _strategic(db, outbox)
    assert _decide(db, outbox, task.task_id, "ann", "approve") == (True, False, False)
    assert not [e for e in helpers.events(db) if isinstance(e, ReviewDecided)]
    assert _decide(db, outbox, task.task_id, "bob", "approve") == (True, True, False)
    decided = [e for e in helpers.events(db) if isinstance(e, ReviewDecided)]
    assert [(e.decision, e.decided_by, e.automated) for e in decided] == [("approve", "ann, bob", False)]
    rel = [e for e in helpers.events(db) if isinstance(e, RelationshipUpdated)]
    assert [(e.creator_id, e.status, e.notes) for e in rel] == [
        ("cr-star", "proposed", "worth a yearly deal")
    ]


def test_strategic_disagreement_escalates_to_a_manager(db: Database, outbox: Outbox) -> None:
    task = _strategic(db, outbox)
    _decide(db, outbox, task.task_id, "ann", "approve")
    assert _decide(db, outbox, task.task_id, "bob", "reject") == (True, False, True)
    escalations = [e for e in helpers.events(db) if isinstance(e, ReviewEscalated)]
    assert [(e.task_id, e.reason) for e in escalations] == [
        (task.task_id, "reviewers disagree: ann approve, bob reject")
    ]
    assert _assignees(db, task.task_id)["max"] == ("escalation", "open")
    helpers.add_reviewer(db, "newbie")
    with pytest.raises(Forbidden, match="escalated: a manager decides it"):
        _decide(db, outbox, task.task_id, "newbie", "approve")
    assert _decide(db, outbox, task.task_id, "max", "reject") == (True, True, True)
    with db.transaction() as session:
        out = tasks.get_task(session, helpers.ORG, task.task_id)
    assert out.decision is not None and (out.decision.decision, out.decision.decided_by) == ("reject", "max")
    # The audit trail: who decided what, and when, for every person on the task.
    trail = [(r.reviewer_id, r.role, r.decision) for r in out.reviews]
    assert sorted(trail) == [("ann", "reviewer", "approve"), ("bob", "reviewer", "reject"),
                             ("max", "escalation", "reject")]  # fmt: skip
    assert all(r.decided_at is not None for r in out.reviews)
    assert out.reviews[0].checklist["brand_values"] == {"rating": 4, "note": "clean beauty"}


def test_decision_by_someone_else_on_an_assigned_task_is_refused(db: Database, outbox: Outbox) -> None:
    task = _strategic(db, outbox)
    helpers.add_reviewer(db, "zoe")
    with pytest.raises(Forbidden, match="is assigned to ann, bob, not zoe"):
        _decide(db, outbox, task.task_id, "zoe", "approve")


def test_decision_for_a_market_not_covered_is_refused(db: Database, outbox: Outbox) -> None:
    task = _strategic(db, outbox)
    with pytest.raises(Forbidden, match="olga does not cover market US"):
        _decide(db, outbox, task.task_id, "olga", "approve")


def test_decision_by_an_unknown_person_is_refused(db: Database, outbox: Outbox) -> None:
    task = _strategic(db, outbox)
    with pytest.raises(Forbidden, match="not an active reviewer"):
        _decide(db, outbox, task.task_id, "mallory", "approve")


def test_decision_after_the_final_one_is_refused_and_resend_is_applied_once(
    db: Database, outbox: Outbox
) -> None:
    task = _strategic(db, outbox)
    _decide(db, outbox, task.task_id, "ann", "approve")
    _decide(db, outbox, task.task_id, "bob", "approve")
    assert _decide(db, outbox, task.task_id, "bob", "approve") == (False, True, False)
    with pytest.raises(Conflict, match="already decided \\(approve by bob\\)"):
        _decide(db, outbox, task.task_id, "bob", "reject")
    with pytest.raises(Conflict, match="already decided \\(approve by ann, bob\\)"):
        _decide(db, outbox, task.task_id, "max", "reject")
    assert sum(isinstance(e, ReviewDecided) for e in helpers.events(db)) == 1


def test_unassigned_task_can_be_claimed_by_a_covering_reviewer(db: Database, outbox: Outbox) -> None:
    sl = helpers.shortlist([helpers.entry(1, "cr-kz", 0.5, 0.1, home="KZ")], markets=["KZ"])
    (task,) = helpers.create(db, outbox, sl, POLICY)
    assert _assignees(db, task.task_id) == {}  # nobody covers KZ yet: the task waits
    helpers.add_reviewer(db, "aigerim", markets=["KZ", "RU"])
    assert _decide(db, outbox, task.task_id, "aigerim", "approve") == (True, True, False)
