"""The reviewer web app's campaign pages (managers): the portfolio, one campaign with its plots, closing
it and writing lessons. Same conventions as web.py: thin routes, CSRF-checked forms, 303 after a POST."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from services.review import campaign_plots, campaign_view, campaigns, insights, pages
from services.review.forms import LESSON_FIELDS, filters_from, lesson_from
from services.review.models import Reviewer
from services.review.web import _back, _person, _reason, _render, _task_form, _to_login
from shared.errors import NotFound, TandemError
from shared.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/app", include_in_schema=False)


def _manager(request: Request, runtime: Runtime, session: Session) -> Reviewer | Response:
    person = _person(request, runtime, session)
    if person is None:
        return _to_login(request)
    if not person.is_manager:
        return _back("/app/queue", error="The portfolio and campaign pages are for managers.")
    return person


@router.get("/portfolio", response_model=None)
def portfolio_page(request: Request, runtime: RuntimeDep) -> Response:
    """Every campaign: stage, money, performance and the people's work on it, with filters."""
    with runtime.db.transaction() as session:
        person = _manager(request, runtime, session)
        if isinstance(person, Response):
            return person
        f, problem = filters_from(request.query_params)
        ctx = pages.portfolio_page(session, person.org_id, f)
    return _render(request, runtime, "portfolio.html", person, filter_error=problem, **ctx)


@router.get("/campaigns/{campaign_id}", response_model=None)
def campaign_page(request: Request, runtime: RuntimeDep, campaign_id: str) -> Response:
    with runtime.db.transaction() as session:
        person = _manager(request, runtime, session)
        if isinstance(person, Response):
            return person
        ctx = pages.campaign_page(session, person.org_id, campaign_id)
    form = {k: request.query_params.get(k, "") for k in LESSON_FIELDS}  # kept from a refused form
    return _render(request, runtime, "campaign.html", person, form=form, **ctx)


@router.get("/campaigns/{campaign_id}/plots/{name}.png", response_model=None)
def campaign_plot(request: Request, runtime: RuntimeDep, campaign_id: str, name: str) -> Response:
    if name not in campaign_plots.PLOTS:
        raise NotFound(f"no plot {name!r}")
    with runtime.db.transaction() as session:
        person = _person(request, runtime, session)
        if person is None or not person.is_manager:
            return Response(status_code=403)
        view = campaign_view.detail(session, person.org_id, campaign_id)
    return Response(campaign_plots.render(name, view["tracking"]), media_type="image/png")


@router.post("/campaigns/{campaign_id}/close", response_model=None)
async def close_campaign(request: Request, runtime: RuntimeDep, campaign_id: str) -> Response:
    page = f"/app/campaigns/{campaign_id}"
    signed = await _task_form(request, runtime, page)
    if isinstance(signed, Response):
        return signed
    form, person = signed
    if not person.is_manager:
        return _back(page, error="Only managers close campaigns.")
    reason = str(form.get("reason", ""))[:500]
    with runtime.db.transaction() as session:
        closed = campaigns.close(
            session, person.org_id, campaign_id, person.reviewer_id, reason, runtime.outbox
        )
    return _back(
        page, msg="Campaign closed; the retrospective follows." if closed else "It was already closed."
    )


@router.post("/campaigns/{campaign_id}/lessons", response_model=None)
async def add_lesson(request: Request, runtime: RuntimeDep, campaign_id: str) -> Response:
    """A lesson written on the campaign page, as the signed-in person; a refused form keeps what was typed."""
    page = f"/app/campaigns/{campaign_id}"
    signed = await _task_form(request, runtime, page)
    if isinstance(signed, Response):
        return signed
    form, person = signed
    try:
        body = lesson_from(form, campaign_id)
        with runtime.db.transaction() as session:
            insights.record_lesson(session, person.org_id, body, person.reviewer_id, runtime.outbox)
    except (ValidationError, TandemError) as exc:
        kept = urlencode({k: str(form.get(k, "")) for k in LESSON_FIELDS})
        return _back(f"{page}?{kept}", error=_reason(exc))
    return _back(page, msg="Lesson recorded: it will show on briefs and tasks in its scope.")
