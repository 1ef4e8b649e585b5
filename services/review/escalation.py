"""The periodic sweep, off the request path: escalate overdue tasks and assign tasks that waited for room."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from services.review import assignment, decisions
from services.review.models import ReviewAssignment, Reviewer, ReviewTask
from shared.bus.outbox import Outbox
from shared.runtime import Runtime

log = logging.getLogger(__name__)


def sweep(
    session: Session, outbox: Outbox, now: datetime, escalation_hours: int, org_id: str | None = None
) -> dict[str, int]:
    """One pass over open tasks of one organisation (`org_id`), or of every one (the background sweep);
    returns what it did."""
    stmt = select(ReviewTask).where(ReviewTask.status == "open").order_by(col(ReviewTask.due_at))
    if org_id is not None:
        stmt = stmt.where(ReviewTask.org_id == org_id)
    open_tasks = list(session.exec(stmt))
    live = _live_reviewer_places(session, [t.task_id for t in open_tasks])
    teams: dict[str, tuple[list[Reviewer], Counter[str]]] = {}
    escalated = assigned = 0
    for task in open_tasks:
        if task.escalated:
            continue
        if task.due_at < now:
            reason = f"overdue: due {task.due_at:%Y-%m-%d %H:%M} UTC and still open"
            decisions.escalate(session, task, reason, outbox, escalation_hours)
            escalated += 1
        elif live[task.task_id] < task.required_reviews:
            if task.org_id not in teams:  # one look at each organisation's team and loads per pass
                teams[task.org_id] = (
                    assignment.reviewers(session, task.org_id),
                    assignment.open_loads(session, task.org_id),
                )
            people, loads = teams[task.org_id]
            missing = task.required_reviews - live[task.task_id]
            assigned += len(
                assignment.assign(session, task, people, loads, missing, "reviewer", task.due_at, now)
            )
    return {"escalated": escalated, "assigned": assigned}


def _live_reviewer_places(session: Session, task_ids: list[str]) -> Counter[str]:
    """Reviewer places taken (open or done) per task, in one query."""
    stmt = select(ReviewAssignment.task_id).where(
        col(ReviewAssignment.task_id).in_(task_ids),
        ReviewAssignment.role == "reviewer",
        ReviewAssignment.status != "released",
    )
    return Counter(session.exec(stmt))


def start_sweeper(runtime: Runtime, interval_s: float, escalation_hours: int) -> threading.Thread:
    """A daemon thread that sweeps every `interval_s` until the runtime stops."""

    def loop() -> None:
        # Runtime._stopping is set by Runtime.close(); waiting on it makes shutdown immediate.
        while not runtime._stopping.wait(interval_s):
            try:
                with runtime.db.transaction() as session:
                    done = sweep(session, runtime.outbox, datetime.now(UTC), escalation_hours)
                if any(done.values()):
                    log.info("review sweep", extra={"fields": done})
            except Exception:  # a failed pass is retried on the next tick; the error is logged
                log.exception("review sweep failed")

    thread = threading.Thread(target=loop, name="review-sweeper", daemon=True)
    thread.start()
    return thread
