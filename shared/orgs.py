"""Who is calling, and for which organisation. Every stored resource carries its org_id.

In `keys` mode (production) the API key decides the organisation and role: a caller can never name
another organisation. In `open` mode (the zero-setup demo) the caller names its organisation in
`X-Org-Id`, falling back to the service's `default_org`, and acts as admin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from shared.errors import Forbidden, Unauthorized
from shared.identity.keys import Principal
from shared.runtime import Runtime, RuntimeDep

ORG_HEADER = "X-Org-Id"
KEY_HEADER = "X-API-Key"


INBOUND_PREFIX = "/v1/inbound/"
# Longest accepted value per credential header (lower-case names, as ASGI carries them).
HEADER_MAX_LENGTH = {"x-org-id": 64, "x-api-key": 200, "authorization": 300}


def current_principal(
    request: Request,
    runtime: RuntimeDep,
    org: Annotated[str | None, Header(alias=ORG_HEADER, max_length=HEADER_MAX_LENGTH["x-org-id"])] = None,
    api_key: Annotated[
        str | None, Header(alias=KEY_HEADER, max_length=HEADER_MAX_LENGTH["x-api-key"])
    ] = None,
    authorization: Annotated[str | None, Header(max_length=HEADER_MAX_LENGTH["authorization"])] = None,
) -> Principal:
    return principal_for(runtime, request.url.path, org, api_key, authorization)


def principal_for(
    runtime: Runtime, path: str, org: str | None, api_key: str | None, authorization: str | None
) -> Principal:
    """The caller behind a request's credential headers; raises Unauthorized without a valid key."""
    if path.startswith(INBOUND_PREFIX):
        # Partners' webhooks authenticate by their signature (checked by the route), not by an API key.
        return Principal(org_id="", role="partner", key_id="webhook")
    if runtime.settings.auth_mode == "open":
        return Principal(org_id=org or runtime.settings.default_org, role="admin", key_id="open")
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


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that refuses callers outside `roles` (admins may do anything)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.role != "admin" and principal.role not in roles:
            raise Forbidden(f"role {principal.role!r} may not do this; needs one of {', '.join(roles)}")
        return principal

    return check
