"""Re-publishing a service's current state (`POST /v1/admin/replay`, `tandem replay`), for an organisation,
a time range or ids.

A broker that restarted without its data (tansu keeps nothing) loses the events it had acknowledged but
nobody had consumed yet. Replaying the state that produced them brings them back; the events keep the ids
they were first published under where the service still has them (its outbox), and otherwise get ids
derived from the state itself (`state_event_id`), so consumers, idempotent by event id, skip what they
already applied and apply only what was lost. Replaying twice changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter
from kafka.errors import KafkaError
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Mapped
from sqlmodel import Session

from shared.bus.outbox import Message, Outbox, publish
from shared.errors import TandemError
from shared.orgs import ADMIN, OrgDep
from shared.runtime import RuntimeDep

T = TypeVar("T")
CHUNK = 500  # events per publish: each chunk waits for the broker's acknowledgements
_NAMESPACE = uuid.UUID("6f1c1f0e-5d1b-4d59-9a57-2f1e0c7d9a31")  # tandem's namespace for state-derived ids


class ReplayScope(BaseModel):
    """What to re-publish for the caller's organisation: everything, or a time range, or some ids."""

    since: AwareDatetime | None = Field(None, description="Only state changed at or after this time.")
    until: AwareDatetime | None = Field(None, description="Only state changed before this time.")
    ids: list[str] | None = Field(
        None, max_length=10_000, description="Only these aggregates (creator ids); at most 10,000."
    )

    def conditions(self, key: Mapped[str], changed_at: Mapped[datetime]) -> list[ColumnElement[bool]]:
        """This scope as SQL conditions on an aggregate's id column and the column saying when it changed."""
        out = []
        if self.since is not None:
            out.append(changed_at >= self.since)
        if self.until is not None:
            out.append(changed_at < self.until)
        if self.ids is not None:
            out.append(key.in_(self.ids))
        return out


class ReplayOut(BaseModel):
    """What a replay re-published (consumers skip the events they already applied, by event id)."""

    org_id: str = Field(description="The organisation whose state was re-published.")
    topic: str = Field(description="The topic the events went to.")
    republished: int = Field(description="Events sent to the topic and acknowledged by the broker.")


class BrokerUnavailable(TandemError):
    status, code, title = 503, "broker_unavailable", "Broker unavailable"


# Reads the state of an organisation in scope and yields the events that announce it, in chunks (the
# outbox assembles envelopes: `Outbox.messages`).
StateEvents = Callable[[Session, Outbox, str, ReplayScope], Iterator[list[Message]]]


def state_event_id(event_type: str, org_id: str, key: str, version: datetime) -> str:
    """The id of the event announcing one version of one aggregate: the same state, the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"{event_type}/{org_id}/{key}/{version.isoformat()}"))


def chunked(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def replay_router(topic: str, events: StateEvents) -> APIRouter:
    """`POST /v1/admin/replay` for a service whose state `events` announces on `topic`; admins only."""
    router = APIRouter(prefix="/v1/admin", tags=["admin"])

    away: dict[int | str, dict[str, Any]] = {
        503: {"description": "The broker is away (or refused the events): replay once /health/ready is 200."}
    }

    @router.post("/replay", dependencies=ADMIN, response_model=ReplayOut, responses=away)
    def replay(scope: ReplayScope, org: OrgDep, runtime: RuntimeDep) -> ReplayOut:
        """Re-publish this service's current state for the caller's organisation (after a broker lost
        events); consumers skip what they already applied. 503 while the broker is away."""
        producer = runtime.producer
        if producer is None or runtime.broker_watch is None or not runtime.broker_watch.reachable:
            raise BrokerUnavailable("the broker is not reachable; replay once /health/ready is 200")
        sent = 0
        with runtime.db.transaction() as session:
            for chunk in events(session, runtime.outbox, org, scope):
                try:
                    # No webhook fan-out (`after_publish`): partners heard of these events when they were
                    # first published, which is when the outbox fans out.
                    publish(producer, chunk, runtime.settings.service_name)
                except KafkaError as exc:
                    raise BrokerUnavailable(
                        f"the broker refused the replay after {sent} events: {exc}"
                    ) from exc
                sent += len(chunk)
        return ReplayOut(org_id=org, topic=topic, republished=sent)

    return router
