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
from shared.replay import CHUNK, ReplayScope, chunked, state_event_id
from shared.topics import CATALOG_CREATORS


def catalogue_events(
    session: Session, outbox: Outbox, org_id: str, scope: ReplayScope
) -> Iterator[list[Message]]:
    """The CreatorUpserted events of the organisation's creators in scope, a chunk at a time.

    One pass over the topic's outbox rows, newest first, streamed (the outbox has no index on the key, and
    a query per chunk of creators read the whole table each time: minutes at a 1M-creator catalogue);
    the first row seen of a creator in scope is its last event.
    """
    in_scope = scope.conditions(col(Creator.creator_id), col(Creator.updated_at))
    wanted = set(session.exec(select(Creator.creator_id).where(Creator.org_id == org_id, *in_scope)).all())
    yield from chunked(_last_published(session, org_id, wanted, scope.ids))
    # `wanted` now holds the creators without an outbox row.
    for creator_ids in chunked(sorted(wanted)):
        yield _from_rows(session, outbox, org_id, creator_ids)


def _last_published(
    session: Session, org_id: str, wanted: set[str], ids: list[str] | None
) -> Iterator[Message]:
    """Each wanted creator's last CreatorUpserted in the outbox, removing it from `wanted` (keys are creator
    ids, which organisations may share: the org is in the headers)."""
    stmt = select(OutboxMessage.key, OutboxMessage.value, OutboxMessage.headers).where(
        OutboxMessage.topic == CATALOG_CREATORS
    )
    if ids is not None:
        stmt = stmt.where(col(OutboxMessage.key).in_(ids))
    rows = session.exec(stmt.order_by(col(OutboxMessage.id).desc()).execution_options(yield_per=CHUNK))
    for key, value, headers in rows:
        if key in wanted and headers.get("org_id") == org_id:
            wanted.discard(key)
            yield Message(CATALOG_CREATORS, key, value, dict(headers))


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
