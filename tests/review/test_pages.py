"""What the web pages show: the manager's queues, waiting work and escalations; blind second opinions."""

from __future__ import annotations

from services.review import decisions, pages, reviewers
from services.review.routing import Policy
from services.review.schemas import DecisionIn
from shared.bus.outbox import Outbox
from shared.db import Database
from tests.review import helpers

POLICY = Policy(0.85, 0.25, 0.7, audit_sample_rate=0.0)


def test_manager_page_shows_waiting_work_escalations_and_the_team_in_the_simulator(
    db: Database, outbox: Outbox
) -> None:
    helpers.add_reviewer(db, "ann")
    helpers.add_reviewer(db, "bob")
    helpers.add_reviewer(db, "max", manager=True)
    strategic = helpers.shortlist(
        [helpers.entry(1, "cr-star", 0.9, 0.1)], tier="strategic", campaign_id="cmp-s"
    )
    (task,) = helpers.create(db, outbox, strategic, POLICY)
    kz = helpers.shortlist(
        [helpers.entry(1, "cr-kz", 0.5, 0.1, home="KZ")], campaign_id="cmp-kz", markets=["KZ"]
    )
    helpers.create(db, outbox, kz, POLICY)
    for who, verdict in (("ann", "approve"), ("bob", "reject")):
        with db.transaction() as session:
            decisions.decide(
                session, helpers.ORG, task.task_id, DecisionIn(reviewer=who, decision=verdict), outbox
            )  # type: ignore[arg-type]
    with db.transaction() as session:
        ctx = pages.manager_page(session, helpers.ORG, None)
    assert ctx["open_count"] == 2
    assert ctx["waiting"] == [("KZ", 1)]  # nobody covers KZ
    assert [t.task_id for t, _ in ctx["escalated"]] == [task.task_id]
    assert {p.reviewer_id: p.open_tasks for p in ctx["team"]} == {"ann": 0, "bob": 0, "max": 1}
    assert [(m.count, m.daily_capacity) for m in ctx["sim"].team] == [(3, 50)]


def test_task_page_hides_the_first_review_from_the_second_reviewer(db: Database, outbox: Outbox) -> None:
    helpers.add_reviewer(db, "ann")
    helpers.add_reviewer(db, "bob")
    strategic = helpers.shortlist([helpers.entry(1, "cr-star", 0.9, 0.1)], tier="strategic")
    (task,) = helpers.create(db, outbox, strategic, POLICY)
    with db.transaction() as session:
        decisions.decide(
            session, helpers.ORG, task.task_id, DecisionIn(reviewer="ann", decision="approve"), outbox
        )
    with db.transaction() as session:
        for_bob = pages.task_page(session, task, reviewers.get(session, helpers.ORG, "bob"))
        for_ann = pages.task_page(session, task, reviewers.get(session, helpers.ORG, "ann"))
    assert (for_bob["show_reviews"], for_bob["can_decide"]) == (False, True)
    assert (for_ann["show_reviews"], for_ann["can_decide"]) == (True, False)
