"""Campaign plan routes: propose, read, edit, approve, apply insights; tracking; retrospective."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, status

from services.forecast.campaigns import edits, insights, store, tracking
from services.forecast.campaigns.planner import PlanState
from services.forecast.campaigns.schemas import (
    ApplyInsightIn,
    LineEditIn,
    PlanLineOut,
    PlanOut,
    PlanProposeIn,
    PlanVersionOut,
    VariantsIn,
    WhyIn,
)
from services.forecast.models import PlanVersion, Retrospective
from services.forecast.report_schemas import RetrospectiveOut, TrackingOut
from shared.errors import NotFound
from shared.orgs import PLAN, ActorDep, OrgDep
from shared.runtime import RuntimeDep

# The plan is the brand's (shared.orgs.PLAN: strategists; admins): partners and reviewers read it.
router = APIRouter(prefix="/v1/campaigns/{campaign_id}", tags=["campaign plans"])


def plan_out(session: Any, org_id: str, row: PlanVersion) -> PlanOut:
    """A stored version as people read it: lines with their notes, totals against budget."""
    state = PlanState.from_json(row.state)
    campaign = store.campaign(session, org_id, row.campaign_id)
    notes = insights.notes(session, org_id, campaign, state)
    posted = store.results_by_line(session, org_id, row.campaign_id)
    s = state.settings
    lines = [PlanLineOut(**store.public_line(x).model_dump(), notes=notes.get(x["line_id"], []),
                         posted=x["line_id"] in posted, learning=x.get("learning")) for x in state.lines]  # fmt: skip
    return PlanOut(
        campaign_id=row.campaign_id, version=row.version, approved=row.approved_by is not None,
        approved_by=row.approved_by, changed_by=row.changed_by, change=row.change, why=row.why,
        objective=s.objective, metric=s.metric, window_start=s.window_start, window_end=s.window_end,
        min_spacing_days=s.min_spacing_days, max_posts_per_creator_per_week=s.max_posts_per_week,
        budget_usd=s.budget_usd, total_cost_usd=row.total_cost_usd,
        budget_left_usd=round(s.budget_usd - row.total_cost_usd, 2) if s.budget_usd is not None else None,
        totals=store.totals(state.lines), variants=state.variants, adjustments=state.adjustments, lines=lines,
        created_at=row.created_at,
    )  # fmt: skip


@router.post(
    "/plan",
    status_code=status.HTTP_201_CREATED,
    dependencies=PLAN,
    summary="Propose a campaign's content plan",
)
def propose(
    campaign_id: str, body: PlanProposeIn, runtime: RuntimeDep, org_id: OrgDep, actor: ActorDep
) -> PlanOut:
    """The AI's proposal from the approved creators: creator x platform x format x message x date."""
    with runtime.db.transaction() as session:
        row = edits.propose(session, runtime.outbox, runtime.model("forecast").current, org_id, campaign_id,
                            body, actor)  # fmt: skip
        return plan_out(session, org_id, row)


@router.get("/plan", summary="Get a campaign's plan")
def current_plan(
    campaign_id: str,
    runtime: RuntimeDep,
    org_id: OrgDep,
    version: int | None = Query(None, description="A past version to read; the current one when left out."),
) -> PlanOut:
    """The current version (or `?version=N`), with lessons and trend calls in scope on each line."""
    with runtime.db.transaction() as session:
        row = (store.current(session, org_id, campaign_id) if version is None
               else session.get(PlanVersion, (org_id, campaign_id, version)))  # fmt: skip
        if row is None:
            raise NotFound(f"campaign {campaign_id} has no plan version {version}", field="version")
        return plan_out(session, org_id, row)


@router.get("/plan/versions", summary="List a plan's versions")
def plan_versions(campaign_id: str, runtime: RuntimeDep, org_id: OrgDep) -> list[PlanVersionOut]:
    """Every version: who changed what and why."""
    with runtime.db.transaction() as session:
        return [PlanVersionOut(**store.summary(r)) for r in store.versions(session, org_id, campaign_id)]


@router.patch("/plan/lines/{line_id}", dependencies=PLAN, summary="Edit a plan line")
def edit_line(campaign_id: str, line_id: str, body: LineEditIn, runtime: RuntimeDep, org_id: OrgDep,
              actor: ActorDep) -> PlanOut:  # fmt: skip
    """Swap creator or platform, move the date, change message or fee, lock/unlock; re-optimises the rest."""
    with runtime.db.transaction() as session:
        row = edits.edit_line(session, runtime.outbox, runtime.model("forecast").current, org_id, campaign_id,
                              line_id, body, actor)  # fmt: skip
        return plan_out(session, org_id, row)


@router.post("/plan/lines/{line_id}/drop", dependencies=PLAN, summary="Drop a plan line")
def drop_line(campaign_id: str, line_id: str, body: WhyIn, runtime: RuntimeDep, org_id: OrgDep,
              actor: ActorDep) -> PlanOut:  # fmt: skip
    """Take a post out of the plan for good (the optimiser will not put that creator's content back); the rest
    is re-optimised and saved as a new version, with the reason."""
    with runtime.db.transaction() as session:
        row = edits.drop_line(session, runtime.outbox, runtime.model("forecast").current, org_id, campaign_id,
                              line_id, body.why, actor)  # fmt: skip
        return plan_out(session, org_id, row)


@router.put("/plan/variants", dependencies=PLAN, summary="Replace the plan's message variants")
def set_variants(
    campaign_id: str, body: VariantsIn, runtime: RuntimeDep, org_id: OrgDep, actor: ActorDep
) -> PlanOut:
    """Replace the messages' texts (add or remove variants); lines of removed ones are re-allocated."""
    with runtime.db.transaction() as session:
        row = edits.set_variants(session, runtime.outbox, runtime.model("forecast").current, org_id, campaign_id,
                                 [v.model_dump() for v in body.variants], body.why, actor)  # fmt: skip
        return plan_out(session, org_id, row)


@router.post("/plan/approve", dependencies=PLAN, summary="Approve the current plan")
def approve(campaign_id: str, body: WhyIn, runtime: RuntimeDep, org_id: OrgDep, actor: ActorDep) -> PlanOut:
    """Approve the current version to go live (approving it again changes nothing)."""
    model = runtime.model("forecast").current
    with runtime.db.transaction() as session:
        row = edits.approve(session, runtime.outbox, model, org_id, campaign_id, actor, body.why)
        return plan_out(session, org_id, row)


@router.post(
    "/plan/insights/{insight_id}/apply", dependencies=PLAN, summary="Apply a lesson or trend call to the plan"
)
def apply_insight(campaign_id: str, insight_id: str, body: ApplyInsightIn, runtime: RuntimeDep, org_id: OrgDep,
                  actor: ActorDep) -> PlanOut:  # fmt: skip
    """Apply a lesson's rule or a trend call to the plan's forecasts, recorded as this person's adjustment."""
    with runtime.db.transaction() as session:
        row = insights.apply(session, runtime.outbox, runtime.model("forecast").current, org_id, campaign_id,
                             insight_id, body, actor)  # fmt: skip
        return plan_out(session, org_id, row)


@router.get("/tracking", response_model=TrackingOut, response_model_exclude_unset=True,
            summary="Track a live campaign against its plan")  # fmt: skip
def campaign_tracking(campaign_id: str, runtime: RuntimeDep, org_id: OrgDep) -> dict[str, Any]:
    """Spend, reach, engagements, clicks, conversions against plan and each post's interval; costs; alerts."""
    with runtime.db.transaction() as session:
        return tracking.report(session, org_id, campaign_id)


@router.get(
    "/retrospective", response_model=RetrospectiveOut, summary="Get a closed campaign's retrospective"
)
def retrospective(campaign_id: str, runtime: RuntimeDep, org_id: OrgDep) -> dict[str, Any]:
    """The closed campaign's forecast vs actual, decomposed (computed when the campaign closed)."""
    with runtime.db.transaction() as session:
        row = session.get(Retrospective, (org_id, campaign_id))
        if row is None:
            raise NotFound(f"campaign {campaign_id} is not closed yet, so it has no retrospective",
                           field="campaign_id")  # fmt: skip
        return {**row.payload, "closed_by": row.closed_by}
