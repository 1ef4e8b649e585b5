"""The reviewer web app (server-rendered): sign in, my queue, the task page, decide, the manager view.

Routes stay thin: they read the session, call the same domain functions as the REST API and render.
Every form posts a CSRF token bound to the session cookie; after a POST the browser is redirected (303).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.review import (
    decisions,
    feedback,
    feedback_plots,
    forecasts,
    pages,
    relationships,
    reviewers,
    signin,
    tasks,
)
from services.review.accounts import SessionSigner
from services.review.api import settings_of
from services.review.forms import (
    SIM_FIELDS,
    TEAM_KINDS,
    adjustment_from,
    decision_errors,
    decision_from,
    history_from,
    plain_errors,
    simulation_errors,
    simulation_from,
)
from services.review.models import Reviewer
from shared.errors import NotFound, TandemError
from shared.runtime import Runtime, RuntimeDep

HERE = Path(__file__).parent
STATIC = HERE / "static"
COOKIE = "tandem_review_session"
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["metric"] = pages.metric_value
router = APIRouter(prefix="/app", include_in_schema=False)


def _signer(runtime: Runtime) -> SessionSigner:
    signer: SessionSigner = runtime.extras["signer"]
    return signer


def _person(request: Request, runtime: Runtime, session: Session) -> Reviewer | None:
    got = signin.signed_in(session, request.cookies.get(COOKIE))
    if got is None:
        return None
    try:
        person = reviewers.get(session, *got)
    except NotFound:
        return None
    return person if person.active else None


def _render(
    request: Request, runtime: Runtime, name: str, person: Reviewer | None, **ctx: Any
) -> HTMLResponse:
    cookie = request.cookies.get(COOKIE, "")
    ctx |= {
        "person": person,
        "csrf": _signer(runtime).csrf(cookie) if cookie else "",
        "msg": request.query_params.get("msg", ""),
        "error": request.query_params.get("error", ""),
    }
    return templates.TemplateResponse(request, name, ctx, status_code=ctx.pop("status_code", 200))


def _to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/app/login?next={quote(request.url.path)}", status_code=303)


def _back(url: str, *, msg: str = "", error: str = "") -> RedirectResponse:
    sep = "&" if "?" in url else "?"
    flash = f"msg={quote(msg)}" if msg else f"error={quote(error)}"
    return RedirectResponse(f"{url}{sep}{flash}", status_code=303)


def _csrf_ok(request: Request, runtime: Runtime, token: str) -> bool:
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and token == _signer(runtime).csrf(cookie)


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file():
        raise NotFound(f"no static file {name!r}")
    return FileResponse(path)


@router.get("", response_model=None)
@router.get("/", response_model=None)
def home() -> RedirectResponse:
    return RedirectResponse("/app/queue", status_code=303)


@router.get("/login", response_model=None)
def login_form(request: Request, runtime: RuntimeDep, next: str = "/app/queue") -> HTMLResponse:
    return _render(request, runtime, "login.html", None, next=next, default_org=runtime.settings.default_org)


@router.post("/login", response_model=None)
def login(
    request: Request,
    runtime: RuntimeDep,
    reviewer_id: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form()] = "/app/queue",
    org_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    org_id, reviewer_id = org_id.strip() or runtime.settings.default_org, reviewer_id.strip()
    address = request.client.host if request.client else "-"
    got = _attempt(runtime, org_id, reviewer_id, password, address)
    if isinstance(got, signin.Throttled):
        page = _render(request, runtime, "login.html", None, next=next, status_code=429, default_org=org_id,
                       reviewer_id=reviewer_id, login_error=got.message)  # fmt: skip
        page.headers["Retry-After"] = str(got.retry_after_s)
        return page
    if got is None:
        return _render(request, runtime, "login.html", None, next=next, status_code=401, default_org=org_id,
                       reviewer_id=reviewer_id, login_error="Unknown reviewer or wrong password.")  # fmt: skip
    s = settings_of(runtime)
    target = next if next.startswith("/app/") else "/app/queue"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, got, max_age=s.session_hours * 3600, httponly=True, samesite="lax", path="/app",
        secure=request.url.scheme == "https" or s.session_cookie_secure,
    )  # fmt: skip
    return response


def _attempt(
    runtime: Runtime, org_id: str, reviewer_id: str, password: str, address: str
) -> signin.Throttled | str | None:
    """A new session's token for the right password; None for a wrong one (counted against the account
    and the address); Throttled while either must wait (the password is then not even checked)."""
    s = settings_of(runtime)
    policy = signin.ThrottlePolicy(s.login_max_failures_per_account, s.login_max_failures_per_address,
                                   s.login_window_s)  # fmt: skip
    account = signin.account_key(org_id, reviewer_id)
    with runtime.db.transaction() as session:
        wait = signin.throttled(session, account, address, policy)
        if wait is not None:
            return wait
        if reviewers.authenticate(session, org_id, reviewer_id, password) is None:
            signin.record_failure(session, account, address)
            return None
        signin.clear_failures(session, account)
        return signin.start(session, org_id, reviewer_id, s.session_hours)


@router.post("/logout", response_model=None)
def logout(request: Request, runtime: RuntimeDep) -> RedirectResponse:
    """Ends the session on the server: the cookie is worthless afterwards, wherever a copy of it is."""
    with runtime.db.transaction() as session:
        signin.end(session, request.cookies.get(COOKIE))
    response = RedirectResponse("/app/login?msg=Signed%20out", status_code=303)
    response.delete_cookie(COOKIE, path="/app")
    return response


@router.get("/queue", response_model=None)
def queue(
    request: Request,
    runtime: RuntimeDep,
    campaign_id: str = "",
    market: str = Query("", max_length=2),
    due: str = Query("", pattern="^(|overdue|today)$"),
) -> Response:
    with runtime.db.transaction() as session:
        person = _person(request, runtime, session)
        if person is None:
            return _to_login(request)
        ctx = pages.queue_page(session, person, campaign_id, market, due)
    return _render(request, runtime, "queue.html", person, **ctx)


@router.get("/tasks/{task_id}", response_model=None)
def task_page(request: Request, runtime: RuntimeDep, task_id: str) -> Response:
    with runtime.db.transaction() as session:
        person = _person(request, runtime, session)
    if person is None:
        return _to_login(request)
    return _task_view(request, runtime, person, task_id)


def _task_view(
    request: Request, runtime: Runtime, person: Reviewer, task_id: str, status_code: int = 200, **kept: Any
) -> Response:
    """The task page; `kept` carries what a person typed into a form that failed, and its errors
    (`typed`, `typed_form`, `errors`), so the page comes back as they left it."""
    with runtime.db.transaction() as session:
        try:
            task = tasks.task_row(session, person.org_id, task_id)
        except NotFound:
            return _render(
                request, runtime, "missing.html", person, status_code=404, what="task", missing=task_id
            )
        ctx = pages.task_page(session, task, person)
    kept.setdefault("typed", {})
    kept.setdefault("errors", {})
    return _render(request, runtime, "task.html", person, status_code=status_code, **ctx, **kept)


async def _task_form(request: Request, runtime: Runtime, page: str) -> Response | tuple[FormData, Reviewer]:
    """The posted form and its signed-in reviewer, or the redirect that sign-in or CSRF failure calls for."""
    form = await request.form()
    with runtime.db.transaction() as session:
        person = _person(request, runtime, session)
    if person is None:
        return _to_login(request)
    if not _csrf_ok(request, runtime, str(form.get("csrf", ""))):
        return _back(page, error="The form expired; please submit it again.")
    return form, person


def _kept(request: Request, runtime: Runtime, person: Reviewer, task_id: str, form: FormData, which: str,
          errors: dict[str, str]) -> Response:  # fmt: skip
    """The task page again (422) with form `which` filled in as posted and each error next to its field."""
    typed = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    return _task_view(request, runtime, person, task_id, 422, typed=typed, typed_form=which, errors=errors)


@router.post("/tasks/{task_id}/decision", response_model=None)
async def decide(request: Request, runtime: RuntimeDep, task_id: str) -> Response:
    page = f"/app/tasks/{task_id}"
    signed = await _task_form(request, runtime, page)
    if isinstance(signed, Response):
        return signed
    form, person = signed
    errors = decision_errors(form)
    try:
        if errors:
            return _kept(request, runtime, person, task_id, form, "decision", errors)
        body = decision_from(form, person.reviewer_id)
        hours = settings_of(runtime).escalation_due_hours
        out, _ = decisions.decide_once(runtime.db, person.org_id, task_id, body, runtime.outbox, hours)
    except ValidationError as exc:
        return _kept(request, runtime, person, task_id, form, "decision", plain_errors(exc))
    except TandemError as exc:
        return _kept(request, runtime, person, task_id, form, "decision", {"form": str(exc)})
    if out.escalated and not out.final:
        return _back(page, msg="Recorded. The reviewers disagree, so the task went to a manager.")
    if not out.final:
        return _back(page, msg="Recorded. Waiting for the second reviewer.")
    return _back(page, msg=f"Decision recorded: {out.decision}.")


@router.post("/tasks/{task_id}/adjustment", response_model=None)
async def adjust(request: Request, runtime: RuntimeDep, task_id: str) -> Response:
    page = f"/app/tasks/{task_id}"
    signed = await _task_form(request, runtime, page)
    if isinstance(signed, Response):
        return signed
    form, person = signed
    try:
        body = adjustment_from(form, person.reviewer_id)
        with runtime.db.transaction() as session:
            task = tasks.task_row(session, person.org_id, task_id)
            decisions.reviewer_for(session, person.org_id, person.reviewer_id, task)
            forecasts.propose(session, task, body, runtime.outbox)
    except ValidationError as exc:
        return _kept(request, runtime, person, task_id, form, "adjustment", plain_errors(exc))
    except TandemError as exc:
        return _kept(request, runtime, person, task_id, form, "adjustment", {"form": str(exc)})
    return _back(page, msg="Forecast push-back sent to the forecast service.")


@router.post("/tasks/{task_id}/history", response_model=None)
async def add_history(request: Request, runtime: RuntimeDep, task_id: str) -> Response:
    page = f"/app/tasks/{task_id}"
    signed = await _task_form(request, runtime, page)
    if isinstance(signed, Response):
        return signed
    form, person = signed
    try:
        with runtime.db.transaction() as session:
            task = tasks.task_row(session, person.org_id, task_id)
            body = history_from(form, person.reviewer_id, task.campaign_id)
            relationships.record(session, person.org_id, task.creator_id, body, runtime.outbox)
    except ValidationError as exc:
        return _kept(request, runtime, person, task_id, form, "history", plain_errors(exc))
    except TandemError as exc:
        return _kept(request, runtime, person, task_id, form, "history", {"form": str(exc)})
    return _back(page, msg="Added to the creator's history.")


@router.get("/manager", response_model=None)
def manager(request: Request, runtime: RuntimeDep) -> Response:
    with runtime.db.transaction() as session:
        person = _person(request, runtime, session)
        if person is None:
            return _to_login(request)
        if not person.is_manager:
            return _back("/app/queue", error="The manager view is for managers.")
        sim_errors: dict[str, str] = {}
        try:
            sim = simulation_from(request.query_params)
        except ValidationError as exc:
            sim, sim_errors = None, simulation_errors(exc)
        ctx = pages.manager_page(session, person.org_id, sim)
    # On an error the form shows what was typed, each problem next to its field, and no result.
    typed = dict(request.query_params) if sim_errors else {}
    return _render(request, runtime, "manager.html", person, sim_errors=sim_errors, typed=typed,
                   sim_fields=SIM_FIELDS, team_kinds=TEAM_KINDS, **ctx)  # fmt: skip


@router.get("/feedback", response_model=None)
def feedback_page(request: Request, runtime: RuntimeDep) -> Response:
    """Managers: people's decisions and adjustments against outcomes, and where people add value."""
    with runtime.db.transaction() as session:
        person = _person(request, runtime, session)
        if person is None:
            return _to_login(request)
        if not person.is_manager:
            return _back("/app/queue", error="The feedback view is for managers.")
        people, value = (
            feedback.people_report(session, person.org_id),
            feedback.value_report(session, person.org_id),
        )
    return _render(request, runtime, "feedback.html", person, people=people, value=value)


@router.get("/feedback/plots/{name}.png", response_model=None)
def feedback_plot(request: Request, runtime: RuntimeDep, name: str) -> Response:
    if name not in feedback_plots.PLOTS:
        raise NotFound(f"no plot {name!r}")
    with runtime.db.transaction() as session:
        person = _person(request, runtime, session)
        if person is None or not person.is_manager:
            return Response(status_code=403)
        report = feedback.people_report(session, person.org_id)
    return Response(feedback_plots.render(name, report), media_type="image/png")


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors()[:3]
        )
    return str(exc)


# --- errors as pages -------------------------------------------------------------------------------------

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
# What a person is told on a page; the API's problem JSON stays as it is for programs.
PAGE_ERRORS = {
    404: ("There is no such page", "The link was mistyped or cut short, or the page has moved."),
    405: ("This page cannot be opened that way", "Open it from a link or the menu."),
    422: ("This address cannot be opened", "Part of it holds something no page takes"),
}


def install_page_errors(app: FastAPI) -> None:
    """A browser opening a page under /app gets an error as a page with a way back, not the API's
    problem JSON: a mistyped address (404), or one whose query or path the input limits refuse (422: a NUL
    in it, checked before the page's own sign-in redirect). Programs and forms are answered as before."""
    for kind in (RequestValidationError, StarletteHTTPException, TandemError):
        app.add_exception_handler(kind, _page_or(app.exception_handlers[kind]))


def _page_or(api_handler: Handler) -> Handler:
    async def handle(request: Request, exc: Any) -> Response:
        answer = api_handler(request, exc)
        response = await answer if inspect.isawaitable(answer) else answer
        if response.status_code not in PAGE_ERRORS or not _wants_page(request):
            return response
        return _error_page(request, response)

    return handle


def _wants_page(request: Request) -> bool:
    return (
        request.url.path.startswith(router.prefix)
        and request.method in ("GET", "HEAD")
        and "text/html" in request.headers.get("accept", "")
    )


def _error_page(request: Request, problem: Response) -> HTMLResponse:
    status = problem.status_code
    title, text = PAGE_ERRORS[status]
    if status == 422:  # which part of the address, in the limits' words
        text = f"{text}: {orjson.loads(problem.body).get('detail', '')}."
    ctx = {"person": _page_person(request), "csrf": "", "msg": "", "error": "", "title": title, "text": text}
    headers = {"Allow": problem.headers["allow"]} if "allow" in problem.headers else None
    return templates.TemplateResponse(request, "problem.html", ctx, status_code=status, headers=headers)


def _page_person(request: Request) -> Reviewer | None:
    """Who is signed in, for the error page's header menu like every other page's. An error page must
    still be one when the database is what failed: then it has no menu."""
    runtime: Runtime = request.app.state.runtime
    try:
        with runtime.db.transaction() as session:
            return _person(request, runtime, session)
    except SQLAlchemyError:
        return None
