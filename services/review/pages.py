"""What the web app's pages show, gathered from the tables (plain data for the templates)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import Session, col, select

from services.review import (
    campaign_plots,
    campaign_view,
    forecasts,
    insights,
    portfolio,
    relationships,
    reviewers,
    tasks,
)
from services.review.models import ReviewAssignment, Reviewer, ReviewTask
from services.review.routing import DOUBT
from services.review.schemas import ReviewerOut, ReviewOut
from services.review.simulator import SimulationIn, TeamMember, mix_table, simulate
from shared.vocabulary import CAMPAIGN_STAGES


def task_page(session: Session, task: ReviewTask, person: Reviewer) -> dict[str, Any]:
    """Everything a reviewer needs on one screen: the AI's case, fraud, forecast, history, the checklist."""
    out = tasks.task_out(session, task)
    mine = next((r for r in out.reviews if r.reviewer_id == person.reviewer_id), None)
    decided_by_me = mine is not None and mine.status == "done"
    blocked = why_not_decide(task, person, out.reviews)
    scope = insights.for_task_page(session, task)
    return {
        "task": out,
        "creator": out.entry.get("creator", {}),
        "reasons": out.entry.get("reasons", []),
        "fraud": forecasts.fraud_of(session, task.org_id, task.creator_id),
        "forecasts": forecasts.for_task(session, task),
        "adjustments": forecasts.adjustments(session, task.task_id),
        "history": relationships.history(session, task.org_id, task.creator_id),
        "checklist_items": scope["checklist"],
        "lessons": scope["lessons"],
        "trends": scope["trends"],
        "mine": mine,
        # Reviews stay blind until you have decided (or you manage), so the second opinion is independent.
        "show_reviews": decided_by_me or person.is_manager,
        "can_decide": task.status == "open" and not decided_by_me and not blocked,
        "blocked": blocked,
    }


def why_not_decide(task: ReviewTask, person: Reviewer, reviews: list[ReviewOut]) -> str:
    """Why `person` may not decide this open task, in words ("" when they may); the same rules
    `decisions` enforces, so the page never offers a form that the submit would refuse."""
    mine = next((r for r in reviews if r.reviewer_id == person.reviewer_id and r.status != "released"), None)
    role = "escalation" if task.escalated else "reviewer"
    if task.escalated and not person.is_manager:
        return "It was escalated because the reviewers disagree: a manager decides it now."
    if mine is not None:
        return (
            ""
            if mine.role == role
            else "You reviewed it before it was escalated; another manager decides it."
        )
    if not task.escalated and task.market not in person.markets:
        return f"You do not cover market {task.market} (you cover {', '.join(person.markets)})."
    taken = [r.reviewer_id for r in reviews if r.role == role and r.status != "released"]
    places = 1 if task.escalated else task.required_reviews
    return f"It is assigned to {', '.join(taken)}." if len(taken) >= places else ""


def queue_page(session: Session, person: Reviewer, campaign_id: str, market: str, due: str) -> dict[str, Any]:
    rows = reviewers.queue(session, person, campaign_id, market, due)
    everything = reviewers.queue(session, person)
    return {
        "rows": rows,
        "campaigns": sorted({(t.campaign_id, t.brief_name) for t, _ in everything}),
        "markets": sorted(person.markets),
        "filters": {"campaign_id": campaign_id, "market": market, "due": due},
    }


def manager_page(session: Session, org_id: str, sim: SimulationIn | None) -> dict[str, Any]:
    """Queues per person, work waiting for someone, escalations, and the simulator for this team."""
    team = reviewers.team(session, org_id)
    open_tasks = list(
        session.exec(
            select(ReviewTask)
            .where(ReviewTask.org_id == org_id, ReviewTask.status == "open")
            .order_by(col(ReviewTask.due_at))
        )
    )
    by_task = reviewers.assignments_by_task(session, [t.task_id for t in open_tasks])
    staffed = {task_id for task_id, rows in by_task.items() if any(a.status == "open" for a in rows)}
    waiting = Counter(t.market for t in open_tasks if t.task_id not in staffed)
    sim = sim or SimulationIn(
        team=_team_mix(team) or [TeamMember(count=4, daily_capacity=25)],
        low_confidence_share=low_confidence_share(session, org_id),
    )
    return {
        "team": team,
        "open_count": len(open_tasks),
        "waiting": sorted(waiting.items()),
        "escalated": [(t, _escalation_place(by_task.get(t.task_id, []))) for t in open_tasks if t.escalated],
        "sim": sim,
        "result": simulate(sim),
        "mixes": mix_table(sim),
        "team_by_kind": {m.employment: m for m in sim.team},
    }


def low_confidence_share(session: Session, org_id: str) -> float:
    """Of the volume finalists the policy could have decided, the share doubts sent to people (so far)."""
    stmt = select(ReviewTask.route, ReviewTask.route_reason).where(
        ReviewTask.org_id == org_id, ReviewTask.tier == "volume", ReviewTask.route != "audit"
    )
    rows = list(session.exec(stmt))
    doubted = sum(1 for route, reason in rows if route == "human" and reason.startswith(DOUBT))
    decidable = doubted + sum(1 for route, _ in rows if route == "auto")
    return round(doubted / decidable, 2) if decidable else 0.0


def _escalation_place(rows: list[ReviewAssignment]) -> ReviewAssignment | None:
    """The manager an escalated task waits on (flagged when given over capacity), if any."""
    return next((a for a in rows if a.role == "escalation" and a.status == "open"), None)


def _team_mix(team: list[ReviewerOut]) -> list[TeamMember]:
    """Today's active team as the simulator's two groups: count and mean daily capacity per kind."""
    out = []
    for kind in ("in_house", "freelance"):
        people = [p for p in team if p.active and p.employment == kind]
        if people:
            mean = round(sum(p.daily_capacity for p in people) / len(people))
            out.append(TeamMember(count=len(people), daily_capacity=mean, employment=kind))
    return out


def portfolio_page(session: Session, org_id: str, f: portfolio.Filters) -> dict[str, Any]:
    """Every campaign, filtered; the filter form is filled with what was asked."""
    out = portfolio.portfolio(session, org_id, f)
    pages = max(1, -(-out.total // f.page_size))
    return {"out": out, "filters": f, "pages": pages, "stages": CAMPAIGN_STAGES}


def campaign_page(session: Session, org_id: str, campaign_id: str) -> dict[str, Any]:
    view = campaign_view.detail(session, org_id, campaign_id)
    return {"v": view, "c": view["campaign"], "plots": campaign_plots.PLOTS}


def metric_value(value: float, metric: str = "") -> str:
    """A forecast figure as a person reads it: rates as percentages (0.3%), small counts with the digits
    that matter (0.05 conversions), from 10 up whole numbers with thousands separators."""
    if metric.endswith("_rate"):
        if 0 < abs(value) < 0.0001:
            return "<0.01%"
        return f"{value * 100:.{2 if abs(value) < 0.001 else 1}f}%"
    if abs(value) >= 10:
        return f"{value:,.0f}"
    if abs(value) < 1:
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{value:,.1f}".removesuffix(".0")
