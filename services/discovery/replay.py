"""The catalogue's replay: every creator in scope announced again on `catalog.creators.v1` (shared.replay).

Each creator's last CreatorUpserted is re-sent as it was published, under its first event id, from the
outbox (rows are kept once published), so fraud skips the creators it already scored and scores the ones
whose event the broker lost. A creator with no outbox row (a database restored without it) is announced
from its row under an id derived from its state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

from sqlmodel import Session, col, select

from services.discovery.catalog import upserted_event
from services.discovery.models import Creator
from shared.bus.outbox import Message, Outbox
from shared.bus.tables import OutboxMessage
from shared.events import CreatorUpserted, Event
from shared.observability import new_correlation_id
from shared.replay import ReplayScope, chunked, state_event_id
from shared.topics import CATALOG_CREATORS


def catalogue_events(
    session: Session, outbox: Outbox, org_id: str, scope: ReplayScope
) -> Iterator[list[Message]]:
    """The CreatorUpserted events of the organisation's creators in scope, a chunk at a time."""
    in_scope = scope.conditions(col(Creator.creator_id), col(Creator.updated_at))
    stmt = select(Creator.creator_id, Creator.updated_at).where(Creator.org_id == org_id, *in_scope)
    for rows in chunked(session.exec(stmt.order_by(col(Creator.creator_id))).all()):
        published = _last_published(session, org_id, [creator_id for creator_id, _ in rows])
        unpublished = [creator_id for creator_id, _ in rows if creator_id not in published]
        yield [*published.values(), *_from_rows(session, outbox, org_id, unpublished)]


def _last_published(session: Session, org_id: str, creator_ids: list[str]) -> dict[str, Message]:
    """Each creator's last CreatorUpserted in the outbox (keys are creator ids, which orgs may share)."""
    stmt = (
        select(OutboxMessage.key, OutboxMessage.value, OutboxMessage.headers)
        .where(OutboxMessage.topic == CATALOG_CREATORS, col(OutboxMessage.key).in_(creator_ids))
        .order_by(col(OutboxMessage.id))
    )
    return {
        key: Message(CATALOG_CREATORS, key, value, dict(headers))
        for key, value, headers in session.exec(stmt)
        if headers.get("org_id") == org_id
    }


def _from_rows(session: Session, outbox: Outbox, org_id: str, creator_ids: list[str]) -> list[Message]:
    if not creator_ids:
        return []
    stmt = select(Creator).where(Creator.org_id == org_id, col(Creator.creator_id).in_(creator_ids))
    items: list[tuple[type[Event], str, bytes, str, str, str]] = []
    for row in session.exec(stmt):
        updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC)
        event = upserted_event(row.profile, updated)
        event_id = state_event_id(CreatorUpserted.event_type, org_id, row.creator_id, updated)
        items.append((CreatorUpserted, row.creator_id, event.model_dump_json().encode(), org_id,
                      new_correlation_id(), event_id))  # fmt: skip
    return outbox.messages(items)
