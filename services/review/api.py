"""Review REST routes: queues, tasks, decisions, the team, settings, history, the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response, status

from services.review import (
    campaign_view,
    campaigns,
    decisions,
    escalation,
    feedback,
    feedback_plots,
    forecasts,
    insight_scores,
    insights,
    policies,
    portfolio,
    relationships,
    reviewers,
    tasks,
)
from services.review.config import ReviewSettings
from services.review.report_schemas import LessonPayoff, PeopleReport, SweepOut, TrendTrust, ValueReport
from services.review.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    CampaignSummary,
    CloseIn,
    CloseOut,
    DecisionIn,
    DecisionOut,
    LessonIn,
    LessonOut,
    PortfolioOut,
    RelationshipIn,
    RelationshipOut,
    ReviewerIn,
    ReviewerOut,
    RoutingValues,
    SettingOut,
    TaskContext,
    TaskOut,
    TrendIn,
    TrendOut,
)
from services.review.simulator import SimulationIn, SimulationOut, simulate
from services.review.story_schemas import CampaignStory
from shared.errors import Forbidden
from shared.identity.keys import Principal
from shared.openapi import png_response, problems
from shared.orgs import ADMIN, COMPUTE, JUDGE, PLAN, ActorDep, OrgDep, PrincipalDep, acting_via, judged_as
from shared.runtime import Runtime, RuntimeDep
from shared.vocabulary import CampaignStage, CampaignTier, InsightScope

router = APIRouter(prefix="/v1", tags=["review"])
# With API keys (auth_mode=keys): people who review judge (JUDGE), as the person their key is bound to;
# strategists run the team and the policy (PLAN); partners never judge.


def settings_of(runtime: Runtime) -> ReviewSettings:
    assert isinstance(runtime.settings, ReviewSettings)
    return runtime.settings


# Why a judgement route refuses a caller with 403 (reviewer_of, decisions.reviewer_for).
NOT_A_PERSON = (
    "The caller may not make this judgement: the key is not bound to a person, the person is not an active "
    "reviewer covering the task's market, the task is assigned to someone else, or it is escalated to a manager."
)


def reviewer_of(principal: Principal, claimed: str) -> str:
    """The reviewer a decision or push-back is recorded as: the caller's person, never a body name."""
    who = judged_as(principal, claimed, "reviewer")
    if principal.person is None:
        raise Forbidden(
            f"decisions are a person's: this key ({principal.actor}) is not bound to one "
            "(tandem keys create ... --person REVIEWER_ID)",
            field="reviewer",
        )
    return who


@router.get("/tasks", summary="List review tasks")
def list_tasks(
    runtime: RuntimeDep,
    org_id: OrgDep,
    campaign_id: str | None = Query(None, description="Only this campaign's tasks."),
    task_status: Literal["open", "decided"] | None = Query(
        None, alias="status", description="Only open or only decided tasks; both when left out."
    ),
    limit: int = Query(100, ge=1, le=1000, description="Most tasks to return (1-1,000)."),
) -> list[TaskOut]:
    """Review tasks of your organisation, soonest due first, optionally of one campaign or in one state; each
    with its reviews and final decision."""
    with runtime.db.transaction() as session:
        return tasks.list_tasks(session, org_id, campaign_id, task_status, limit)


@router.get("/tasks/{task_id}", summary="Get a review task")
def get_task(task_id: str, runtime: RuntimeDep, org_id: OrgDep) -> TaskOut:
    """The task with its reviews: who was assigned, who decided what and when (the audit trail)."""
    with runtime.db.transaction() as session:
        return tasks.get_task(session, org_id, task_id)


@router.post(
    "/tasks/{task_id}/decision",
    status_code=status.HTTP_201_CREATED,
    dependencies=JUDGE,
    summary="Decide a review task",
    responses=problems({403: NOT_A_PERSON}),
)
def decide(
    task_id: str, body: DecisionIn, runtime: RuntimeDep, principal: PrincipalDep, response: Response
) -> DecisionOut:
    """201 for a new decision, 200 when the same one is re-sent; 403/409 with the reason when refused.

    Recorded as the key's person (an integration key's decision also names the key); `reviewer` may be
    left out, and one naming anyone else is refused with a 422."""
    body = body.model_copy(update={"reviewer": reviewer_of(principal, body.reviewer)})
    hours = settings_of(runtime).escalation_due_hours
    out, created = decisions.decide_once(
        runtime.db, principal.org_id, task_id, body, runtime.outbox, hours, via=acting_via(principal)
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/tasks/{task_id}/context", summary="Get what a reviewer needs to decide a task")
def task_context(task_id: str, runtime: RuntimeDep, org_id: OrgDep) -> TaskContext:
    """What the task page shows beside the shortlist entry: fraud reasons, forecasts, history, push-backs."""
    with runtime.db.transaction() as session:
        return forecasts.context(session, tasks.task_row(session, org_id, task_id))


@router.get("/campaigns", summary="List campaigns (the portfolio)")
def list_campaigns(
    runtime: RuntimeDep,
    org_id: OrgDep,
    brand: str = Query("", max_length=200, description="Only this brand's campaigns; empty for all."),
    market: str = Query(
        "",
        max_length=2,
        description="Only campaigns targeting this market (ISO 3166-1 alpha-2); empty for all.",
    ),
    tier: CampaignTier | Literal[""] = Query(
        "", description="Only strategic or only volume campaigns; empty for both."
    ),
    stage: CampaignStage | Literal[""] = Query(
        "",
        description="Only campaigns in this stage (brief, shortlist, review, planning, live, closed); empty for all.",
    ),
    page: int = Query(1, ge=1, description="Page number, from 1."),
    page_size: int = Query(50, ge=1, le=200, description="Campaigns per page (1-200)."),
) -> PortfolioOut:
    """The portfolio: stage, tier, owner, brand, markets, spend vs budget, results vs forecast, review
    backlog and people on it, overdue tasks, open anomalies; newest first."""
    f = portfolio.Filters(brand, market, tier, stage, page, page_size)
    with runtime.db.transaction() as session:
        return portfolio.portfolio(session, org_id, f)


# exclude_unset: the plan before any version, and retrospective lines of creators without a review task,
# keep the keys they have always had (no nulls added).
@router.get("/campaigns/{campaign_id}", response_model=CampaignStory, response_model_exclude_unset=True,
            summary="Get a campaign's story")  # fmt: skip
def get_campaign(campaign_id: str, runtime: RuntimeDep, org_id: OrgDep) -> dict[str, Any]:
    """Timeline from brief to retrospective, plan summary, tracking, alerts, the retrospective with the
    decisions behind each line, lessons and live trend calls."""
    with runtime.db.transaction() as session:
        return campaign_view.detail(session, org_id, campaign_id)


@router.post("/campaigns/{campaign_id}/close", dependencies=PLAN, summary="Close a campaign")
def close_campaign(
    campaign_id: str, runtime: RuntimeDep, org_id: OrgDep, actor: ActorDep, body: CloseIn | None = None
) -> CloseOut:
    """Close the campaign as the caller (publishes CampaignCloseRequested once; again changes nothing)."""
    with runtime.db.transaction() as session:
        closed = campaigns.close(
            session, org_id, campaign_id, actor, body.reason if body else "", runtime.outbox
        )
        c = campaigns.get(session, org_id, campaign_id)
        return CloseOut(campaign_id=campaign_id, stage=c.stage, closed=closed, closed_by=c.closed_by,
                        closed_at=c.closed_at)  # fmt: skip


@router.post("/lessons", status_code=status.HTTP_201_CREATED, dependencies=JUDGE, summary="Record a lesson",
             responses=problems({404: "The lesson's `campaign_id` is not a campaign of your organisation."}))  # fmt: skip
def record_lesson(body: LessonIn, runtime: RuntimeDep, org_id: OrgDep, actor: ActorDep) -> LessonOut:
    """A lesson from a campaign, recorded as the caller (published as LessonRecorded)."""
    with runtime.db.transaction() as session:
        return insights.record_lesson(session, org_id, body, actor, runtime.outbox)


@router.get("/lessons", summary="List lessons")
def list_lessons(
    runtime: RuntimeDep,
    org_id: OrgDep,
    campaign_id: str = Query("", description="Only lessons learnt on this campaign; empty for all."),
    scope: InsightScope | Literal[""] = Query(
        "",
        description="Only lessons of this scope (market, category, creator, format, message, timing, platform); empty for all.",
    ),
) -> list[LessonOut]:
    """Lessons recorded after campaigns, optionally of one campaign or one scope."""
    with runtime.db.transaction() as session:
        return insights.lessons(session, org_id, campaign_id, scope)


@router.post("/trends", status_code=status.HTTP_201_CREATED, dependencies=JUDGE, summary="Call a trend")
def call_trend(body: TrendIn, runtime: RuntimeDep, org_id: OrgDep, actor: ActorDep) -> TrendOut:
    """A trend call, recorded as the caller (published as TrendCalled)."""
    with runtime.db.transaction() as session:
        return insights.call_trend(session, org_id, body, actor, runtime.outbox)


@router.get("/trends", summary="List trend calls")
def list_trends(
    runtime: RuntimeDep,
    org_id: OrgDep,
    market: str = Query(
        "", max_length=2, description="Only trend calls for this market (ISO 3166-1 alpha-2); empty for all."
    ),
) -> list[TrendOut]:
    """Trend calls, each scored against the results that followed it (open until expiry or enough results)."""
    with runtime.db.transaction() as session:
        return insight_scores.scored_trends(session, org_id, insights.trend_rows(session, org_id, market))


@router.get("/feedback/trends", response_model=list[TrendTrust], summary="Report whose trend calls to trust")
def trend_report(runtime: RuntimeDep, org_id: OrgDep) -> list[dict[str, Any]]:
    """Whose trend calls to trust: per author, calls, scored calls, hit rate and Brier score."""
    with runtime.db.transaction() as session:
        scored = insight_scores.scored_trends(session, org_id, insights.trend_rows(session, org_id))
    return insight_scores.trust_report(scored)


@router.get("/feedback/lessons", response_model=list[LessonPayoff], summary="Report which lessons paid off")
def lesson_report(runtime: RuntimeDep, org_id: OrgDep) -> list[dict[str, Any]]:
    """Lessons with a rule: would applying it have made later forecasts in its scope more accurate?"""
    with runtime.db.transaction() as session:
        return insight_scores.lesson_payoffs(session, org_id)


@router.post(
    "/tasks/{task_id}/forecast-adjustments",
    status_code=status.HTTP_201_CREATED,
    dependencies=JUDGE,
    responses=problems({403: NOT_A_PERSON}),
    summary="Adjust a task's forecast",
)
def propose_adjustment(
    task_id: str, body: AdjustmentIn, runtime: RuntimeDep, principal: PrincipalDep
) -> AdjustmentOut:
    """Push back on the task's forecast with a market reason (published as ForecastAdjustmentProposed);
    recorded as the caller's person (`reviewer` may be left out; another name is a 422)."""
    body = body.model_copy(update={"reviewer": reviewer_of(principal, body.reviewer)})
    org_id = principal.org_id
    with runtime.db.transaction() as session:
        task = tasks.task_row(session, org_id, task_id)
        decisions.reviewer_for(session, org_id, body.reviewer, task)
        return forecasts.propose(session, task, body, runtime.outbox)


@router.get("/campaigns/{campaign_id}/summary", summary="Summarise a campaign's review")
def campaign_summary(campaign_id: str, runtime: RuntimeDep, org_id: OrgDep) -> CampaignSummary:
    """How a campaign's review went: tasks created, how many the policy decided, how many went to people or
    were audited, how many are open, and the decisions by kind."""
    with runtime.db.transaction() as session:
        return tasks.campaign_summary(session, org_id, campaign_id)


@router.put("/reviewers/{reviewer_id}", dependencies=PLAN, summary="Create or update a reviewer")
def put_reviewer(reviewer_id: str, body: ReviewerIn, runtime: RuntimeDep, org_id: OrgDep) -> ReviewerOut:
    """Create or update a reviewer (markets, languages, in-house/freelance, daily capacity)."""
    with runtime.db.transaction() as session:
        return reviewers.upsert(session, org_id, reviewer_id, body)


@router.get("/reviewers", summary="List reviewers")
def list_reviewers(runtime: RuntimeDep, org_id: OrgDep) -> list[ReviewerOut]:
    """Your review team: each person's markets, languages, capacity, role and the tasks they hold now."""
    with runtime.db.transaction() as session:
        return reviewers.team(session, org_id)


@router.get("/reviewers/{reviewer_id}/queue", summary="Get a reviewer's queue")
def reviewer_queue(
    reviewer_id: str,
    runtime: RuntimeDep,
    org_id: OrgDep,
    campaign_id: str = Query("", description="Only this campaign's tasks; empty for all."),
    market: str = Query(
        "", description="Only tasks for creators of this market (ISO 3166-1 alpha-2); empty for all."
    ),
    due: Literal["", "overdue", "today"] = Query(
        "", description="overdue: past their due time; today: due within 24 hours; empty: all."
    ),
) -> list[TaskOut]:
    """Open tasks assigned to this reviewer and unassigned ones they may claim, soonest due first; optionally
    of one campaign, one market, or only overdue / due within 24 hours."""
    with runtime.db.transaction() as session:
        person = reviewers.get(session, org_id, reviewer_id)
        rows = reviewers.queue(session, person, campaign_id, market, due)
        return [tasks.task_out(session, t) for t, _ in rows]


@router.put(
    "/settings/{scope}/{scope_id}",
    dependencies=PLAN,
    summary="Set routing thresholds for a campaign or brand",
)
def put_setting(
    scope: Annotated[
        Literal["campaign", "brand"],
        Path(description="Set the thresholds for one campaign or for every campaign of a brand."),
    ],
    scope_id: Annotated[str, Path(description="The campaign's id, or the brand's name.")],
    body: RoutingValues,
    runtime: RuntimeDep,
    principal: PrincipalDep,
) -> SettingOut:
    """Routing thresholds and sample rates for a campaign or a brand; unset fields use the defaults."""
    with runtime.db.transaction() as session:
        return policies.put_setting(session, principal.org_id, scope, scope_id, body, who=principal.actor)


@router.get("/settings/effective", summary="Get the routing thresholds that apply")
def effective_setting(
    runtime: RuntimeDep,
    org_id: OrgDep,
    campaign_id: str = Query("", description="The campaign whose thresholds to resolve; empty for none."),
    brand: str = Query("", description="The brand whose thresholds to resolve; empty for none."),
) -> RoutingValues:
    """The routing thresholds that apply to a campaign and/or brand: the service's defaults, overridden by the
    brand's, then by the campaign's settings."""
    with runtime.db.transaction() as session:
        return RoutingValues(**policies.effective(session, settings_of(runtime), org_id, campaign_id, brand))


@router.get("/creators/{creator_id}/relationship", summary="Get a creator's relationship history")
def relationship(creator_id: str, runtime: RuntimeDep, org_id: OrgDep) -> list[RelationshipOut]:
    """Notes, incidents and outcomes recorded about working with this creator, newest first."""
    with runtime.db.transaction() as session:
        return relationships.history(session, org_id, creator_id)


@router.post(
    "/creators/{creator_id}/relationship",
    status_code=status.HTTP_201_CREATED,
    dependencies=JUDGE,
    summary="Add to a creator's relationship history",
)
def add_relationship(
    creator_id: str, body: RelationshipIn, runtime: RuntimeDep, principal: PrincipalDep
) -> RelationshipOut:
    """Add a note, an incident or an outcome to a creator's history (published as RelationshipUpdated);
    the author is the caller (`author` may be left out; another name is a 422)."""
    body = body.model_copy(update={"author": judged_as(principal, body.author, "author")[:100]})
    with runtime.db.transaction() as session:
        return relationships.record(session, principal.org_id, creator_id, body, runtime.outbox)


@router.post("/simulator", dependencies=COMPUTE, summary="Simulate a month of review work")
def simulator(body: SimulationIn) -> SimulationOut:
    """Human workload, backlog and share to people for a month of campaigns with a given team."""
    return simulate(body)


@router.post("/sweep", dependencies=ADMIN, summary="Sweep overdue tasks now")
def sweep_now(runtime: RuntimeDep, org_id: OrgDep) -> SweepOut:
    """Run the overdue-task sweep now for the caller's organisation (the background sweep covers all)."""
    with runtime.db.transaction() as session:
        done = escalation.sweep(
            session,
            runtime.outbox,
            datetime.now(UTC),
            settings_of(runtime).escalation_due_hours,
            org_id=org_id,
        )
        return SweepOut(**done)


@router.get(
    "/feedback/people",
    dependencies=PLAN,
    response_model=PeopleReport,
    summary="Report how people's judgements compare with outcomes",
)
def people_report(runtime: RuntimeDep, org_id: OrgDep) -> dict[str, Any]:
    """Per reviewer and market: approvals' hit rate, adjustments vs the raw model, calibration."""
    with runtime.db.transaction() as session:
        return feedback.people_report(session, org_id)


@router.get(
    "/feedback/value", dependencies=PLAN, response_model=ValueReport, summary="Report where people add value"
)
def value_report(
    runtime: RuntimeDep,
    org_id: OrgDep,
    margin: float = Query(
        0.1,
        ge=0,
        le=1,
        description="How much higher (0-1) people's approval hit rate must be than the policy's for a segment to count as `people add value`.",
    ),
) -> dict[str, Any]:
    """Where people add value (tier, market, creator size), with thresholds the routing policy can use."""
    with runtime.db.transaction() as session:
        return feedback.value_report(session, org_id, margin)


PlotName = Literal["adjustments", "calibration", "reviewers"]


@router.get(
    "/feedback/plots/{name}.png",
    dependencies=PLAN,
    response_class=Response,
    responses=png_response("The plot"),
    summary="Plot people's judgements against outcomes",
)
def feedback_plot(
    name: Annotated[PlotName, Path(description="Which plot: adjustments, calibration or reviewers.")],
    runtime: RuntimeDep,
    org_id: OrgDep,
) -> Response:
    """A plot of how people's judgements compare with outcomes, for a report or a dashboard.

    `adjustments`: median error of the raw forecast and of people's adjusted figure, per author, market and
    metric; `calibration`: approval hit rate by match-score band, routing policy against people;
    `reviewers`: approval hit rate per reviewer and market (the policy included)."""
    with runtime.db.transaction() as session:
        report = feedback.people_report(session, org_id)
    return Response(feedback_plots.render(name, report), media_type="image/png")
