"""Transactional outbox: stage events with the change, publish after commit, at least once."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared.bus.producer import RawPublisher
from shared.bus.tables import OutboxMessage
from shared.db import Database
from shared.events import Envelope, Event, wrap
from shared.observability import EVENTS_PUBLISHED, OUTBOX_PENDING, current_correlation_id, new_correlation_id

log = logging.getLogger(__name__)


def envelope_headers(envelope: Envelope) -> dict[str, str]:
    return {
        "event_id": str(envelope.event_id),
        "event_type": envelope.type,
        "schema_version": str(envelope.schema_version),
        "correlation_id": envelope.correlation_id,
        "org_id": envelope.org_id,
    }


class Outbox:
    """Stages events in the caller's transaction; nothing reaches the broker until that commits."""

    def __init__(self, producer_name: str) -> None:
        self.producer_name = producer_name
        self.wakeup = threading.Event()

    def stage(self, session: Session, event: Event, *, org_id: str) -> Envelope:
        envelope = wrap(
            event,
            producer=self.producer_name,
            correlation_id=current_correlation_id() or new_correlation_id(),
            org_id=org_id,
        )
        session.add(
            OutboxMessage(
                topic=event.topic,
                key=envelope.key,
                event_id=str(envelope.event_id),
                value=envelope.to_bytes(),
                headers=envelope_headers(envelope),
                created_at=datetime.now(UTC),
            )
        )
        self.wakeup.set()
        return envelope


def publish_pending(db: Database, publisher: RawPublisher, service: str, limit: int = 500) -> int:
    """Publish one batch of unpublished rows in id order; rows are marked only after the broker acks."""
    with db.transaction() as session:
        query = (
            select(OutboxMessage)
            .where(col(OutboxMessage.published_at).is_(None))
            .order_by(col(OutboxMessage.id))
            .limit(limit)
            # Several replicas can relay at once on PostgreSQL without sending a row twice in the
            # common case; a crash after send but before commit still re-sends (consumers dedupe).
            .with_for_update(skip_locked=True)
        )
        rows = list(session.exec(query))
        if not rows:
            return 0
        futures = [publisher.send(r.topic, r.key, r.value, r.headers) for r in rows]
        publisher.flush(timeout=30)
        now = datetime.now(UTC)
        for row, future in zip(rows, futures, strict=True):
            future.get(timeout=30)  # raises if the broker refused it; the transaction rolls back
            row.published_at = now
            session.add(row)
            EVENTS_PUBLISHED.labels(service, row.topic).inc()
    return len(rows)


def pending_count(db: Database) -> int:
    with db.transaction() as session:
        stmt = (
            select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.published_at).is_(None))
        )
        return int(session.exec(stmt).one())


class OutboxRelay(threading.Thread):
    """Background thread that drains the outbox; woken early whenever something is staged."""

    def __init__(
        self, db: Database, publisher: RawPublisher, outbox: Outbox, service: str, poll_interval: float
    ) -> None:
        super().__init__(name=f"{service}-outbox-relay", daemon=True)
        self.db, self.publisher, self.outbox = db, publisher, outbox
        self.service, self.poll_interval = service, poll_interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                sent = publish_pending(self.db, self.publisher, self.service)
                if sent:
                    continue
                OUTBOX_PENDING.labels(self.service).set(0)
            except Exception:
                log.exception("outbox relay failed; will retry")
                self._stop_event.wait(1.0)
            self.outbox.wakeup.wait(self.poll_interval)
            self.outbox.wakeup.clear()

    def stop(self) -> None:
        self._stop_event.set()
        self.outbox.wakeup.set()
        self.join(timeout=10)
