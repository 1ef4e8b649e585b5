"""Review tasks: created from shortlists by the routing policy, assigned to people, listed and summarised."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from services.review import anomalies, assignment, forecasts, relationships
from services.review.models import ReviewAssignment, ReviewDecision, ReviewTask
from services.review.routing import Policy, audit_sample, audit_size, doubts, route
from services.review.schemas import CampaignSummary, DecisionOut, ReviewOut, TaskOut
from shared.bus.outbox import Outbox
from shared.errors import NotFound
from shared.events import ReviewDecided, ReviewRequested, ShortlistEntry, ShortlistPublished
from shared.vocabulary import Decision

AUTO_REVIEWER = "policy:auto"


@dataclass(frozen=True)
class Plan:
    """How one shortlist is handled: the routing policy, due times per tier, people per strategic task."""

    policy: Policy
    due_hours: dict[str, int]  # "strategic" | "volume" | "audit" -> hours
    strategic_reviewers: int = 2
    fraud_max_age: timedelta = timedelta(days=30)


def _new_task(
    org_id: str, sl: ShortlistPublished, entry: ShortlistEntry, kind: str, reason: str, due: datetime
) -> ReviewTask:
    creator = entry.creator
    audience = [a.model_dump() for a in creator.audience]
    return ReviewTask(
        task_id=f"task-{uuid.uuid4().hex[:12]}",
        org_id=org_id,
        campaign_id=sl.campaign_id,
        shortlist_id=sl.shortlist_id,
        creator_id=creator.creator_id,
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
        market=assignment.task_market(sl.target_markets, creator.home_market, audience),
        brief_name=sl.brief_name[:200],
    )


def create_tasks(
    session: Session, org_id: str, sl: ShortlistPublished, plan: Plan, outbox: Outbox
) -> list[ReviewTask]:
    """One task per finalist; confident volume cases are decided at once and an exact, deterministic
    sample of them is also sent to people as an audit. Tasks for people are assigned straight away."""
    now = datetime.now(UTC)
    due = now + timedelta(hours=plan.due_hours[sl.tier])
    ids = [e.creator.creator_id for e in sl.entries]
    known = relationships.known_creators(session, org_id, ids)
    open_anomalies = anomalies.open_counts(session, org_id, ids)
    scored_at = forecasts.fraud_scored_at(session, org_id, ids)
    created, auto, for_people = [], [], []
    for entry in sl.entries:
        cid = entry.creator.creator_id
        doubted = doubts(entry, open_anomalies=open_anomalies[cid], fraud_scored_at=scored_at.get(cid),
                         now=now, max_fraud_age=plan.fraud_max_age)  # fmt: skip
        r = route(entry, sl.tier, plan.policy, first_time=cid not in known, doubted=doubted)
        task = _new_task(org_id, sl, entry, r.kind, r.reason, due)
        task.required_reviews = plan.strategic_reviewers if sl.tier == "strategic" else 1
        session.add(task)
        created.append(task)
        if r.decision is not None:
            finalize(session, task, r.decision, AUTO_REVIEWER, f"auto: {r.reason}", outbox, automated=True)
            auto.append((entry, r.decision))
        else:
            for_people.append(task)
    size = audit_size(len(auto), plan.policy.audit_sample_rate)
    sampled = audit_sample(sl.campaign_id, [e.creator.creator_id for e, _ in auto], size)
    audit_due = now + timedelta(hours=plan.due_hours["audit"])
    for entry, decision in auto:
        if entry.creator.creator_id in sampled:
            audit = _new_task(org_id, sl, entry, "audit", f"audit sample of an auto-{decision}", audit_due)
            session.add(audit)
            created.append(audit)
            for_people.append(audit)
    session.flush()
    _assign_and_request(session, org_id, for_people, outbox, now)
    return created


def _assign_and_request(
    session: Session, org_id: str, tasks: list[ReviewTask], outbox: Outbox, now: datetime
) -> None:
    people = assignment.reviewers(session, org_id)
    loads = assignment.open_loads(session, org_id)
    for task in tasks:
        assignment.assign(session, task, people, loads, task.required_reviews, "reviewer", task.due_at, now)
        event = ReviewRequested(
            task_id=task.task_id,
            campaign_id=task.campaign_id,
            creator_id=task.creator_id,
            route=task.route,
            route_reason=task.route_reason,
            due_at=task.due_at,
        )
        outbox.stage(session, event, org_id=task.org_id)


def finalize(
    session: Session,
    task: ReviewTask,
    decision: Decision,
    who: str,
    notes: str,
    outbox: Outbox,
    *,
    automated: bool,
) -> ReviewDecision:
    """The task's final decision: stored, open assignments released, ReviewDecided staged."""
    now = datetime.now(UTC)
    row = ReviewDecision(
        decision_id=f"dec-{uuid.uuid4().hex[:12]}",
        task_id=task.task_id,
        org_id=task.org_id,
        decision=decision,
        decided_by=who[:100],
        automated=automated,
        notes=notes[:4000],
        decided_at=now,
    )
    task.status = "decided"
    session.add(task)
    session.add(row)
    for a in assignments_of(session, task.task_id):
        if a.status == "open":
            a.status = "released"
            session.add(a)
    entry = ShortlistEntry.model_validate(task.entry)
    event = ReviewDecided(
        decision_id=row.decision_id,
        task_id=task.task_id,
        campaign_id=task.campaign_id,
        tier=task.tier,
        decision=decision,
        automated=automated,
        decided_by=row.decided_by,
        notes=row.notes,
        route_reason=task.route_reason,
        match_score=task.match_score,
        fraud_risk=task.fraud_risk,
        target_markets=task.target_markets,
        creator=entry.creator,
        decided_at=now,
    )
    outbox.stage(session, event, org_id=task.org_id)
    return row


def assignments_of(session: Session, task_id: str) -> list[ReviewAssignment]:
    stmt = select(ReviewAssignment).where(ReviewAssignment.task_id == task_id)
    return list(session.exec(stmt.order_by(col(ReviewAssignment.assigned_at), col(ReviewAssignment.role))))


def task_row(session: Session, org_id: str, task_id: str, *, for_update: bool = False) -> ReviewTask:
    task = session.get(ReviewTask, task_id, with_for_update=for_update)
    if task is None or task.org_id != org_id:
        raise NotFound(f"no review task {task_id!r}", field="task_id")
    return task


def final_decision(session: Session, task_id: str) -> ReviewDecision | None:
    return session.exec(select(ReviewDecision).where(ReviewDecision.task_id == task_id)).first()


def task_out(session: Session, task: ReviewTask) -> TaskOut:
    decision = final_decision(session, task.task_id)
    out = TaskOut.model_validate(task, from_attributes=True)
    reviews = assignments_of(session, task.task_id)
    out.reviews = [ReviewOut.model_validate(a, from_attributes=True) for a in reviews]
    out.assignees = [a.reviewer_id for a in reviews if a.status != "released"]
    if decision is not None:
        out.decision = DecisionOut.model_validate(decision, from_attributes=True)
    return out


def get_task(session: Session, org_id: str, task_id: str) -> TaskOut:
    return task_out(session, task_row(session, org_id, task_id))


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
        escalated=sum(t.escalated for t in tasks),
    )
