"""Who is calling, and for which organisation. Every stored resource carries its org_id.

In `keys` mode (production) the API key decides the organisation and role: a caller can never name
another organisation. In `open` mode (the zero-setup demo) the caller names its organisation in
`X-Org-Id`, falling back to the service's `default_org`, and acts as admin; the person it acts as is
named in `X-Person` (honoured only in open mode, where nothing is authenticated anyway: the demo's
reviewers use it). In keys mode the person is the one the key is bound to (`tandem keys create --person`).

Every write route declares the roles that may make it, next to the route: `dependencies=allow(...)` or one
of the named sets below. tests/e2e/test_roles.py walks every route with every role against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from shared.errors import Forbidden, Invalid, TandemError, Unauthorized
from shared.identity.keys import Principal
from shared.runtime import Runtime, RuntimeDep
from shared.webhooks.inbound import verified

ORG_HEADER = "X-Org-Id"
KEY_HEADER = "X-API-Key"
PERSON_HEADER = "X-Person"


INBOUND_PREFIX = "/v1/inbound/"
# Longest accepted value per credential header (lower-case names, as ASGI carries them).
HEADER_MAX_LENGTH = {"x-org-id": 64, "x-api-key": 200, "authorization": 300, "x-person": 100}


def current_principal(
    request: Request,
    runtime: RuntimeDep,
    org: Annotated[str | None, Header(alias=ORG_HEADER, max_length=HEADER_MAX_LENGTH["x-org-id"])] = None,
    api_key: Annotated[
        str | None, Header(alias=KEY_HEADER, max_length=HEADER_MAX_LENGTH["x-api-key"])
    ] = None,
    authorization: Annotated[str | None, Header(max_length=HEADER_MAX_LENGTH["authorization"])] = None,
    person: Annotated[
        str | None, Header(alias=PERSON_HEADER, max_length=HEADER_MAX_LENGTH["x-person"])
    ] = None,
) -> Principal:
    return principal_for(runtime, request.url.path, org, api_key, authorization, person)


def principal_for(
    runtime: Runtime,
    path: str,
    org: str | None,
    api_key: str | None,
    authorization: str | None,
    person: str | None = None,
) -> Principal:
    """The caller behind a request's credential headers; raises Unauthorized without a valid key."""
    if path.startswith(INBOUND_PREFIX):
        # Partners' webhooks authenticate by their signature (checked by the route), not by an API key.
        return Principal(org_id="", role="partner", key_id="webhook")
    if runtime.settings.auth_mode == "open":
        org_id = org or runtime.settings.default_org
        return Principal(org_id=org_id, role="admin", key_id="open", person=person or None)
    token = api_key or (
        authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None
    )
    if not token:
        raise Unauthorized("an API key is required (X-API-Key or Authorization: Bearer)")
    assert runtime.keys is not None
    principal = runtime.keys.verify(token)
    if principal is None:
        raise Unauthorized("the API key is unknown, expired or revoked")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def current_org(principal: PrincipalDep) -> str:
    return principal.org_id


OrgDep = Annotated[str, Depends(current_org)]


def current_actor(principal: PrincipalDep) -> str:
    return principal.actor


# Record judgements (decisions, verdicts, adjustments, plan edits, lessons, trend calls) as this, never as
# a name taken from the request body.
ActorDep = Annotated[str, Depends(current_actor)]


def acting_via(principal: Principal) -> str:
    """How a judgement reached us when not from the person's own key or session: the service key that
    acted for them (named in the audit trail), else ""."""
    return f"integration:{principal.key_id}" if principal.role == "integration" else ""


def judged_as(principal: Principal, claimed: str | None, field: str) -> str:
    """The name a judgement is recorded as: the principal's. A body field naming someone else is refused
    (422 naming the field) rather than silently replaced, so a client that meant another person learns."""
    if claimed and claimed != principal.actor:
        raise Invalid(
            f"{field} {claimed!r} is not the authenticated caller ({principal.actor}): judgements are "
            f"recorded as the caller; leave {field} out or sign in as that person",
            field=field,
        )
    return principal.actor


@dataclass(frozen=True)
class RoleCheck:
    """A dependency that refuses callers outside `roles` (admins may do anything); the walk of every route
    (tests/e2e/test_roles.py) reads `roles` off the route to know what to expect."""

    roles: tuple[str, ...]

    def __call__(self, principal: PrincipalDep) -> Principal:
        if principal.role != "admin" and principal.role not in self.roles:
            needs = ", ".join(self.roles) or "admin"
            raise Forbidden(f"role {principal.role!r} may not do this; needs one of {needs}")
        return principal


def role_checks(dependant: Any) -> list[RoleCheck]:
    """Every role check among a route's dependencies (however deep)."""
    found = [dependant.call] if isinstance(dependant.call, RoleCheck) else []
    for sub in dependant.dependencies:
        found += role_checks(sub)
    return found


# Role checks per route, found once (a route's dependencies do not change once built). Keyed by id, as
# APIRoute is not hashable; the route is kept with its checks, so an id is never reused while cached.
_ROUTE_CHECKS: dict[int, tuple[APIRoute, tuple[RoleCheck, ...]]] = {}


def route_role_checks(route: APIRoute) -> tuple[RoleCheck, ...]:
    """The role checks of `route` (cached)."""
    cached = _ROUTE_CHECKS.get(id(route))
    if cached is None or cached[0] is not route:
        cached = _ROUTE_CHECKS[id(route)] = (route, tuple(role_checks(route.dependant)))
    return cached[1]


def check_access(request: Request, principal: Principal) -> None:
    """Apply the role checks of the route a request reached (Forbidden if one refuses)."""
    route = request.scope.get("route")
    for check in route_role_checks(route) if isinstance(route, APIRoute) else ():
        check(principal)


async def authorised(request: Request, principal: PrincipalDep) -> Principal:
    """A router dependency, ahead of the input limits: people without access learn only that (401 from
    the principal or a partner's webhook signature, 403 from the route's roles), never what their body
    holds, and their body is not parsed. The route's own role dependency still runs later (the role is
    what tests/e2e/test_roles reads); a webhook's verified signature is handed to the route
    (`checked_webhook`), which does not check it again."""
    if request.url.path.startswith(INBOUND_PREFIX):
        runtime: Runtime = request.app.state.runtime
        assert runtime.idempotency is not None, "inbound webhooks need the edge database"
        request.state.verified_webhook = await run_in_threadpool(
            verified,
            runtime.idempotency.db,
            request.path_params.get("source_id", ""),
            dict(request.headers),
            await request.body(),
        )
    check_access(request, principal)
    return principal


def checked_webhook(request: Request) -> tuple[str, str] | None:
    """The (org_id, webhook_id) `authorised` verified from this request's signature and body, or None if
    it did not run (the route then verifies the signature itself: shared.webhooks.inbound.receive)."""
    found: tuple[str, str] | None = getattr(request.state, "verified_webhook", None)
    return found


def refusal(request: Request) -> TandemError | None:
    """Why the caller may not call the /v1 route its request reached (401/403), or None. Asked again
    before any 4xx about the body: FastAPI parses a route's JSON body before its dependencies run, so a
    malformed or too deeply nested body is refused before `authorised` had its say."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.path.startswith("/v1"):
        return None  # pages sign people in themselves; health and docs are open
    runtime: Runtime = request.app.state.runtime
    headers = request.headers
    try:
        principal = principal_for(runtime, request.url.path, headers.get(ORG_HEADER),
                                  headers.get(KEY_HEADER), headers.get("authorization"))  # fmt: skip
        check_access(request, principal)
    except (Unauthorized, Forbidden) as denied:
        return denied
    return None


def require_role(*roles: str) -> RoleCheck:
    return RoleCheck(tuple(roles))


def allow(*roles: str) -> list[Any]:
    """`dependencies=allow("strategist")` on a route: the roles (besides admin) that may call it."""
    return [Depends(require_role(*roles))]


# The named sets every write route uses (a new route picks one, or `allow(...)` its own):
# computations that store nothing (scores, forecasts, search, the simulator): every role.
COMPUTE = allow("strategist", "reviewer", "partner", "integration")
# data in (catalogue, results, observations, histories): the brand's strategists and its partners' systems.
INGEST = allow("strategist", "partner")
# judgements of people (decisions, verdicts, adjustments, notes): recorded as the caller, never partners.
JUDGE = allow("strategist", "reviewer", "integration")
# the brand's plans and policy (briefs, experiments, routing settings, the team, campaign plans, lessons,
# trend calls, closing a campaign): strategists.
PLAN = allow("strategist")
# operations on the organisation as a whole (the overdue sweep): its admins only.
ADMIN = allow()
