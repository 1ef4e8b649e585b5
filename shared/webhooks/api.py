"""REST routes for partners' webhook endpoints, mounted on every service (they share the edge database)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl
from sqlmodel import col, select

from shared.db import Database
from shared.errors import Invalid, NotFound
from shared.events import EVENT_TYPES
from shared.identity.keys import Principal
from shared.orgs import require_role
from shared.runtime import Runtime, RuntimeDep
from shared.webhooks import hub
from shared.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shared.webhooks.targets import UnsafeTarget, check_target

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Manager = Annotated[Principal, Depends(require_role("partner", "strategist"))]


class EndpointIn(BaseModel):
    """A partner endpoint to receive Tandem events as signed webhooks (Standard Webhooks)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"url": "https://partner.example/hooks/tandem", "event_types": ["shortlist.published", "review.decided"],
                 "description": "CRM sync"}
            ]
        },
    )  # fmt: skip

    url: HttpUrl = Field(
        description="The http(s) URL events are POSTed to (use HTTPS); private and loopback addresses are refused."
    )
    event_types: list[str] = Field(
        min_length=1, description=f"Event types, or '*' for all: {', '.join(EVENT_TYPES)}"
    )
    description: str = Field(
        "",
        max_length=500,
        description="A note for people (e.g. what system receives it), up to 500 characters.",
    )


class EndpointOut(BaseModel):
    """A partner endpoint and the state of deliveries to it."""

    endpoint_id: str = Field(description="Id of the endpoint.")
    url: str = Field(description="Where events are POSTed.")
    event_types: list[str] = Field(description="Event types delivered, or ['*'] for all.")
    description: str = Field(description="Your note.")
    enabled: bool = Field(
        description="Whether events are being delivered; false after too many failures (see `disabled_reason`) until you re-enable it."
    )
    disabled_reason: str = Field(description="Why delivery was switched off, empty while enabled.")
    consecutive_failures: int = Field(description="Deliveries that failed in a row since the last success.")
    created_at: datetime = Field(description="When the endpoint was registered (UTC).")


class EndpointCreated(EndpointOut):
    """A new endpoint, with its signing secret (shown this once: store it to verify our signatures)."""

    secret: str = Field(description="The signing secret (whsec_...); shown only now.")


class DeliveryOut(BaseModel):
    """One event sent (or being sent) to one endpoint."""

    delivery_id: str = Field(
        description="Id of the delivery, sent as the `webhook-id` header (retries keep it: deduplicate on it)."
    )
    event_id: str = Field(description="Id of the event delivered (the envelope's `event_id`).")
    event_type: str = Field(description="The event's type, e.g. review.decided.")
    status: str = Field(
        description="pending (will be tried or retried), succeeded, or failed (gave up after the last attempt)."
    )
    attempts: int = Field(description="Attempts made so far.")
    last_status_code: int | None = Field(
        description="HTTP status your endpoint answered last, or null (no answer yet, or a network error)."
    )
    next_attempt_at: datetime | None = Field(
        description="When the next attempt is due, or null when none is."
    )
    created_at: datetime = Field(description="When the delivery was created (UTC).")


class AttemptOut(BaseModel):
    """One attempt to deliver an event."""

    attempted_at: datetime = Field(description="When it was made (UTC).")
    status_code: int | None = Field(
        description="HTTP status your endpoint answered, or null on a network error."
    )
    latency_ms: float = Field(description="How long your endpoint took to answer, in milliseconds.")
    response_excerpt: str = Field(description="The start of your endpoint's answer, to help you debug.")
    error: str = Field(description="The network error, empty when your endpoint answered.")


REPLAY_RANGE_EXAMPLE = {"since": "2027-03-01T00:00:00Z", "until": "2027-03-02T00:00:00Z"}


class ReplayRange(BaseModel, json_schema_extra={"examples": [REPLAY_RANGE_EXAMPLE]}):
    """A time range of past deliveries to send again (e.g. after your endpoint was down)."""

    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime = Field(
        description="Replay deliveries created at or after this time (timezone required)."
    )
    until: AwareDatetime = Field(description="...and before this time (timezone required).")


class SecretRotated(BaseModel):
    """An endpoint's new signing secret (shown once)."""

    endpoint_id: str = Field(description="The endpoint.")
    secret: str = Field(description="The new signing secret; store it, it is not shown again.")


class Replayed(BaseModel):
    """How many deliveries were queued to be sent again."""

    replayed: int = Field(description="Deliveries queued again.")


def _edge(runtime: Runtime) -> Database:
    """The edge database (shared by every service) holds partners' endpoints and deliveries."""
    assert runtime.idempotency is not None
    return runtime.idempotency.db


def _endpoint(runtime: Runtime, org_id: str, endpoint_id: str) -> WebhookEndpoint:
    with _edge(runtime).transaction() as s:
        ep = s.get(WebhookEndpoint, endpoint_id)
    if ep is None or ep.org_id != org_id:
        raise NotFound(f"no webhook endpoint {endpoint_id!r}", field="endpoint_id")
    return ep


@router.post("/endpoints", status_code=status.HTTP_201_CREATED, summary="Register a webhook endpoint")
def create_endpoint(body: EndpointIn, runtime: RuntimeDep, who: Manager) -> EndpointCreated:
    """Subscribe a URL to event types (or `*`); the answer holds the signing secret, shown only this once."""
    unknown = sorted(set(body.event_types) - set(EVENT_TYPES) - {hub.WILDCARD})
    if unknown:
        raise Invalid(f"unknown event types: {', '.join(unknown)}", field="event_types")
    s = runtime.settings
    try:
        check_target(
            str(body.url), allow_loopback=s.webhooks_allow_loopback, allow_private=s.webhooks_allow_private
        )
    except UnsafeTarget as exc:
        raise Invalid(str(exc), field="url") from exc
    ep, secret = hub.new_endpoint(
        _edge(runtime), who.org_id, str(body.url), body.event_types, body.description
    )
    return EndpointCreated(**EndpointOut.model_validate(ep, from_attributes=True).model_dump(), secret=secret)


@router.get("/endpoints", summary="List webhook endpoints")
def list_endpoints(runtime: RuntimeDep, who: Manager) -> list[EndpointOut]:
    """Your organisation's endpoints, with whether each is enabled and why one was disabled."""
    with _edge(runtime).transaction() as s:
        rows = s.exec(select(WebhookEndpoint).where(WebhookEndpoint.org_id == who.org_id))
        return [EndpointOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/endpoints/{endpoint_id}/enable", summary="Re-enable a webhook endpoint")
def enable_endpoint(endpoint_id: str, runtime: RuntimeDep, who: Manager) -> EndpointOut:
    """Re-enable an endpoint that was disabled after failing for three days; its failure count restarts."""
    ep = _endpoint(runtime, who.org_id, endpoint_id)
    ep.enabled, ep.disabled_reason, ep.consecutive_failures, ep.failing_since = True, "", 0, None
    with _edge(runtime).transaction() as s:
        s.add(ep)
    return EndpointOut.model_validate(ep, from_attributes=True)


@router.post("/endpoints/{endpoint_id}/rotate-secret", summary="Rotate an endpoint's signing secret")
def rotate(
    endpoint_id: str,
    runtime: RuntimeDep,
    who: Manager,
    grace_hours: int = Query(
        24,
        ge=0,
        le=720,
        description="Hours the old secret keeps verifying (0-720) while your receiver switches over.",
    ),
) -> SecretRotated:
    """A new signing secret; the old one stays valid for `grace_hours` so receivers can switch over."""
    _endpoint(runtime, who.org_id, endpoint_id)
    secret = hub.rotate_secret(_edge(runtime), who.org_id, endpoint_id, timedelta(hours=grace_hours))
    return SecretRotated(endpoint_id=endpoint_id, secret=secret)


@router.get("/endpoints/{endpoint_id}/deliveries", summary="List deliveries to an endpoint")
def deliveries(
    endpoint_id: str,
    runtime: RuntimeDep,
    who: Manager,
    limit: int = Query(100, ge=1, le=1000, description="Most deliveries to return (1-1,000), newest first."),
) -> list[DeliveryOut]:
    """The newest deliveries to this endpoint (`limit`), each with its status and attempts so far."""
    _endpoint(runtime, who.org_id, endpoint_id)
    with _edge(runtime).transaction() as s:
        stmt = (select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                .order_by(col(WebhookDelivery.created_at).desc()).limit(limit))  # fmt: skip
        return [DeliveryOut.model_validate(d, from_attributes=True) for d in s.exec(stmt)]


@router.get("/deliveries/{delivery_id}/attempts", summary="List attempts of a delivery")
def attempts(delivery_id: str, runtime: RuntimeDep, who: Manager) -> list[AttemptOut]:
    """Every attempt to deliver one event: when, status code, latency and the start of the response."""
    with _edge(runtime).transaction() as s:
        d = s.get(WebhookDelivery, delivery_id)
        if d is None or d.org_id != who.org_id:
            raise NotFound(f"no delivery {delivery_id!r}", field="delivery_id")
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(col(WebhookAttempt.attempted_at))
        )
        return [AttemptOut.model_validate(a, from_attributes=True) for a in s.exec(stmt)]


@router.post("/deliveries/{delivery_id}/replay", summary="Send a delivery again")
def replay_one(delivery_id: str, runtime: RuntimeDep, who: Manager) -> Replayed:
    """Send one delivery again (with a fresh signature); 404 if it is not your organisation's."""
    n = hub.replay(_edge(runtime), who.org_id, delivery_id=delivery_id)
    if n == 0:
        raise NotFound(f"no delivery {delivery_id!r}", field="delivery_id")
    return Replayed(replayed=n)


@router.post("/endpoints/{endpoint_id}/replay", summary="Send an endpoint's deliveries again")
def replay_range(endpoint_id: str, body: ReplayRange, runtime: RuntimeDep, who: Manager) -> Replayed:
    """Send again every delivery to this endpoint created between `since` and `until`."""
    if body.since > body.until:
        raise Invalid("since is after until", field="since")
    _endpoint(runtime, who.org_id, endpoint_id)
    n = hub.replay(_edge(runtime), who.org_id, endpoint_id=endpoint_id, since=body.since, until=body.until)
    return Replayed(replayed=n)
