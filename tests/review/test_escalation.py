"""The periodic sweep: overdue tasks escalate once; tasks that waited get people when room appears."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.review import escalation, tasks
from services.review.routing import Policy
from shared.bus.outbox import Outbox
from shared.db import Database
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
