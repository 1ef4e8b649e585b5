"""Decisions on PostgreSQL under concurrency: a double-submitted decision is applied once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from services.review import decisions
from services.review.routing import Policy
from services.review.schemas import DecisionIn
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.events import ReviewDecided
from shared.settings import REPO_ROOT
from tests.review import helpers

pytestmark = pytest.mark.integration


def test_double_submitted_decision_at_the_same_moment_is_applied_once(
    postgres_database: Callable[[str], str],
) -> None:
    url = postgres_database("review_race")
    migrate(url, REPO_ROOT / "services" / "review" / "migrations")
    db, outbox = Database(url), Outbox("review")
    try:
        helpers.add_reviewer(db, "ann")
        sl = helpers.shortlist([helpers.entry(1, "cr-1", 0.5, 0.1)])
        (task,) = helpers.create(db, outbox, sl, Policy(0.85, 0.25, 0.7, 0.0))
        body = DecisionIn(reviewer="ann", decision="approve", notes="double click")
        start, results = threading.Barrier(4), []

        def submit() -> None:
            start.wait()
            results.append(decisions.decide_once(db, helpers.ORG, task.task_id, body, outbox))

        threads = [threading.Thread(target=submit) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(created for _, created in results) == [False, False, False, True]
        assert len({out.decision_id for out, _ in results}) == 1
        assert sum(isinstance(e, ReviewDecided) for e in helpers.events(db)) == 1
    finally:
        db.close()
