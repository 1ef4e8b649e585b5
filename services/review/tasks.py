"""Review tasks: created from shortlists by the routing policy, decided by people or by the policy."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from services.review.models import ReviewDecision, ReviewTask
from services.review.routing import Policy, in_audit_sample, route
from services.review.schemas import CampaignSummary, DecisionIn, DecisionOut, TaskOut
from shared.bus.outbox import Outbox
from shared.errors import Conflict, NotFound
from shared.events import ReviewDecided, ReviewRequested, ShortlistEntry, ShortlistPublished
from shared.vocabulary import Decision

AUTO_REVIEWER = "policy:auto"


def _new_task(
    org_id: str, sl: ShortlistPublished, entry: ShortlistEntry, kind: str, reason: str, due: datetime
) -> ReviewTask:
    return ReviewTask(
        task_id=f"task-{uuid.uuid4().hex[:12]}",
        org_id=org_id,
        campaign_id=sl.campaign_id,
        shortlist_id=sl.shortlist_id,
        creator_id=entry.creator.creator_id,
        tier=sl.tier,
        route=kind,
        route_reason=reason,
        status="open",
        match_score=entry.match_score,
        fraud_risk=entry.fraud_risk,
        target_markets=sl.target_markets,
        entry=entry.model_dump(mode="json"),
        due_at=due,
        created_at=datetime.now(UTC),
    )


def create_tasks(
    session: Session, org_id: str, sl: ShortlistPublished, policy: Policy, due_hours: int, outbox: Outbox
) -> list[ReviewTask]:
    """One task per finalist; confident volume cases are decided at once, a sample of them also audited."""
    due = datetime.now(UTC) + timedelta(hours=due_hours)
    created = []
    for entry in sl.entries:
        r = route(entry, sl.tier, policy)
        task = _new_task(org_id, sl, entry, r.kind, r.reason, due)
        session.add(task)
        created.append(task)
        if r.decision is not None:
            _decide(session, task, r.decision, AUTO_REVIEWER, f"auto: {r.reason}", outbox, automated=True)
            if in_audit_sample(sl.campaign_id, entry.creator.creator_id, policy.audit_sample_rate):
                audit = _new_task(org_id, sl, entry, "audit", f"audit sample of an auto-{r.decision}", due)
                session.add(audit)
                created.append(audit)
                _request(session, audit, outbox)
        else:
            _request(session, task, outbox)
    return created


def _request(session: Session, task: ReviewTask, outbox: Outbox) -> None:
    event = ReviewRequested(
        task_id=task.task_id,
        campaign_id=task.campaign_id,
        creator_id=task.creator_id,
        route=task.route,
        route_reason=task.route_reason,
        due_at=task.due_at,
    )
    outbox.stage(session, event, org_id=task.org_id)


def _decide(
    session: Session,
    task: ReviewTask,
    decision: Decision,
    who: str,
    notes: str,
    outbox: Outbox,
    *,
    automated: bool,
) -> ReviewDecision:
    now = datetime.now(UTC)
    row = ReviewDecision(
        decision_id=f"dec-{uuid.uuid4().hex[:12]}",
        task_id=task.task_id,
        org_id=task.org_id,
        decision=decision,
        decided_by=who,
        automated=automated,
        notes=notes,
        decided_at=now,
    )
    task.status = "decided"
    session.add(task)
    session.add(row)
    entry = ShortlistEntry.model_validate(task.entry)
    event = ReviewDecided(
        decision_id=row.decision_id,
        task_id=task.task_id,
        campaign_id=task.campaign_id,
        tier=task.tier,
        decision=decision,
        automated=automated,
        decided_by=who,
        notes=notes,
        route_reason=task.route_reason,
        match_score=task.match_score,
        fraud_risk=task.fraud_risk,
        target_markets=task.target_markets,
        creator=entry.creator,
        decided_at=now,
    )
    outbox.stage(session, event, org_id=task.org_id)
    return row


def _task(session: Session, org_id: str, task_id: str) -> ReviewTask:
    task = session.get(ReviewTask, task_id)
    if task is None or task.org_id != org_id:
        raise NotFound(f"no review task {task_id!r}", field="task_id")
    return task


def decide(
    session: Session, org_id: str, task_id: str, body: DecisionIn, outbox: Outbox
) -> tuple[DecisionOut, bool]:
    """A person's decision. Re-sending the same decision returns the stored one (applied once)."""
    task = _task(session, org_id, task_id)
    existing = session.exec(select(ReviewDecision).where(ReviewDecision.task_id == task_id)).first()
    if existing is not None:
        if existing.decided_by == body.reviewer and existing.decision == body.decision:
            return DecisionOut.model_validate(existing, from_attributes=True), False
        raise Conflict(f"task {task_id} was already decided ({existing.decision} by {existing.decided_by})")
    notes = (
        body.notes if body.decision != "needs_info" else f"{body.notes}\nquestion: {body.question}".strip()
    )
    row = _decide(session, task, body.decision, body.reviewer, notes, outbox, automated=False)
    return DecisionOut.model_validate(row, from_attributes=True), True


def task_out(session: Session, task: ReviewTask) -> TaskOut:
    decision = session.exec(select(ReviewDecision).where(ReviewDecision.task_id == task.task_id)).first()
    out = TaskOut.model_validate(task, from_attributes=True)
    if decision is not None:
        out.decision = DecisionOut.model_validate(decision, from_attributes=True)
    return out


def get_task(session: Session, org_id: str, task_id: str) -> TaskOut:
    return task_out(session, _task(session, org_id, task_id))


def list_tasks(
    session: Session, org_id: str, campaign_id: str | None, status: str | None, limit: int
) -> list[TaskOut]:
    stmt = select(ReviewTask).where(ReviewTask.org_id == org_id)
    if campaign_id:
        stmt = stmt.where(ReviewTask.campaign_id == campaign_id)
    if status:
        stmt = stmt.where(ReviewTask.status == status)
    stmt = stmt.order_by(col(ReviewTask.due_at), col(ReviewTask.task_id)).limit(limit)
    return [task_out(session, t) for t in session.exec(stmt)]


def campaign_summary(session: Session, org_id: str, campaign_id: str) -> CampaignSummary:
    tasks = list(
        session.exec(
            select(ReviewTask).where(ReviewTask.org_id == org_id, ReviewTask.campaign_id == campaign_id)
        )
    )
    if not tasks:
        raise NotFound(f"no review tasks for campaign {campaign_id!r}", field="campaign_id")
    ids = [t.task_id for t in tasks]
    decisions = Counter(
        d.decision for d in session.exec(select(ReviewDecision).where(col(ReviewDecision.task_id).in_(ids)))
    )
    routes = Counter(t.route for t in tasks)
    return CampaignSummary(
        campaign_id=campaign_id,
        tasks=len(tasks),
        auto_decided=routes["auto"],
        sent_to_people=routes["human"],
        audits=routes["audit"],
        open=sum(t.status == "open" for t in tasks),
        decisions=dict(decisions),
    )
