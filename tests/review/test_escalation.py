"""The periodic sweep: overdue tasks escalate once; tasks that waited get people when room appears."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.review import decisions, escalation, pages, tasks
from services.review.models import ReviewAssignment
from services.review.routing import Policy
from services.review.schemas import DecisionIn, TaskOut
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.errors import Forbidden
from shared.events import ReviewEscalated
from tests.review import helpers

POLICY = Policy(0.85, 0.25, 0.7, audit_sample_rate=0.0)


def _sweep(db: Database, outbox: Outbox, hours_later: float) -> dict[str, int]:
    with db.transaction() as session:
        return escalation.sweep(session, outbox, datetime.now(UTC) + timedelta(hours=hours_later), 24)


def test_sweep_escalates_overdue_tasks_once_to_a_manager(db: Database, outbox: Outbox) -> None:
    helpers.add_reviewer(db, "ann")
    helpers.add_reviewer(db, "max", manager=True)
    (task,) = helpers.create(db, outbox, helpers.shortlist([helpers.entry(1, "cr-1", 0.5, 0.1)]), POLICY)
    assert _sweep(db, outbox, 1) == {"escalated": 0, "assigned": 0}  # due in 24 h: not yet
    assert _sweep(db, outbox, 25) == {"escalated": 1, "assigned": 0}
    assert _sweep(db, outbox, 26) == {"escalated": 0, "assigned": 0}  # already escalated
    (event,) = [e for e in helpers.events(db) if isinstance(e, ReviewEscalated)]
    assert event.task_id == task.task_id and event.reason.startswith("overdue: due ")
    with db.transaction() as session:
        out = tasks.get_task(session, helpers.ORG, task.task_id)
    assert out.escalated and out.status == "open"
    assert {(r.reviewer_id, r.role) for r in out.reviews} == {("ann", "reviewer"), ("max", "escalation")}


def test_sweep_assigns_waiting_tasks_when_someone_has_room(db: Database, outbox: Outbox) -> None:
    helpers.add_reviewer(db, "ann", capacity=1)
    entries = [helpers.entry(1, "cr-1", 0.5, 0.1), helpers.entry(2, "cr-2", 0.5, 0.1)]
    created = helpers.create(db, outbox, helpers.shortlist(entries), POLICY)
    with db.transaction() as session:
        assert sorted(len(tasks.task_out(session, t).assignees) for t in created) == [0, 1]
    assert _sweep(db, outbox, 0) == {"escalated": 0, "assigned": 0}  # ann is still full
    helpers.add_reviewer(db, "bob")
    assert _sweep(db, outbox, 0) == {"escalated": 0, "assigned": 1}
    with db.transaction() as session:
        assert sorted(tasks.task_out(session, t).assignees[0] for t in created) == ["ann", "bob"]


def _busy(db: Database, reviewer_id: str, n: int) -> None:
    """Give someone `n` open assignments elsewhere, as a full day's work."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        for i in range(n):
            session.add(ReviewAssignment(assignment_id=f"asg-busy-{reviewer_id}-{i}", org_id=helpers.ORG,
                                         task_id=f"task-elsewhere-{i}", reviewer_id=reviewer_id, role="reviewer",
                                         status="open", assigned_at=now, due_at=now + timedelta(days=1)))  # fmt: skip


def _overdue_strategic(db: Database, outbox: Outbox) -> TaskOut:
    sl = helpers.shortlist([helpers.entry(1, "cr-1", 0.5, 0.1)], tier="strategic")
    (task,) = helpers.create(db, outbox, sl, POLICY)
    assert _sweep(db, outbox, 49)["escalated"] == 1
    with db.transaction() as session:
        return tasks.get_task(session, helpers.ORG, task.task_id)


def test_overdue_strategic_task_goes_to_a_manager_not_to_a_reviewer_with_room(
    db: Database, outbox: Outbox
) -> None:
    for who in ("ann", "bob", "cara"):
        helpers.add_reviewer(db, who)
    helpers.add_reviewer(db, "max", manager=True)
    out = _overdue_strategic(db, outbox)
    escalation = [r for r in out.reviews if r.role == "escalation"]
    assert [(r.reviewer_id, r.status, r.over_capacity) for r in escalation] == [("max", "open", False)]
    # The reviewers' places are released: only the manager decides an escalated task now.
    assert {r.reviewer_id for r in out.reviews if r.status == "open"} == {"max"}
    with pytest.raises(Forbidden, match="a manager decides it"):
        decisions.decide_once(
            db, helpers.ORG, out.task_id, DecisionIn(reviewer="ann", decision="approve"), outbox
        )
    decided, _ = decisions.decide_once(
        db, helpers.ORG, out.task_id, DecisionIn(reviewer="max", decision="reject"), outbox
    )
    assert decided.final and decided.decided_by == "max"


def test_when_every_manager_is_full_the_escalation_goes_over_capacity_and_is_flagged(
    db: Database, outbox: Outbox
) -> None:
    for who in ("ann", "bob", "cara"):  # cara has room but is no manager
        helpers.add_reviewer(db, who)
    helpers.add_reviewer(db, "max", manager=True, capacity=2)
    helpers.add_reviewer(db, "mia", manager=True, capacity=2, markets=["GB"])
    _busy(db, "max", 2)
    _busy(db, "mia", 3)
    out = _overdue_strategic(db, outbox)
    escalation = [(r.reviewer_id, r.over_capacity) for r in out.reviews if r.role == "escalation"]
    assert escalation == [("max", True)]  # the manager who covers the market, though full
    with db.transaction() as session:
        page = pages.manager_page(session, helpers.ORG, None)
    ((task, place),) = page["escalated"]
    assert task.task_id == out.task_id and place is not None and place.over_capacity
