"""Transactional outbox: stage events with the change, publish after commit, at least once."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

import orjson
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata
from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from shared.bus.deadletter import FRAMING_BYTES, DeadLetter, DeadLetterSink
from shared.bus.producer import RawPublisher, is_fatal
from shared.bus.provenance import PRODUCER_HEADER
from shared.bus.tables import OutboxMessage
from shared.db import Database, insert_many
from shared.events import Envelope, Event, wrap
from shared.observability import (
    EVENTS_PUBLISHED,
    OUTBOX_PENDING,
    OUTBOX_REFUSED,
    current_correlation_id,
    new_correlation_id,
)
from shared.settings import MAX_MESSAGE_BYTES

log = logging.getLogger(__name__)


def envelope_headers(envelope: Envelope) -> dict[str, str]:
    return {
        "event_id": str(envelope.event_id),
        "event_type": envelope.type,
        "schema_version": str(envelope.schema_version),
        "correlation_id": envelope.correlation_id,
        "org_id": envelope.org_id,
        PRODUCER_HEADER: envelope.producer,
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

    def messages(self, items: list[tuple[type[Event], str, bytes, str, str, str]]) -> list[Message]:
        """Envelopes for (event type, key, payload JSON, org_id, correlation_id, event_id) items.

        For hot batch paths that serialise payloads themselves; the caller guarantees each payload is
        valid for its type. The envelope JSON is assembled around the payload: building and dumping an
        Envelope model per event cost more than scoring it. `parse_envelope` reads it back as usual.
        """
        occurred = datetime.now(UTC).isoformat().replace("+00:00", "Z").encode()
        producer = orjson.dumps(self.producer_name)
        out = []
        for cls, key, payload, org, cid, event_id in items:
            value = b"".join((
                b'{"event_id":"', event_id.encode(), b'","type":', orjson.dumps(cls.event_type),
                b',"schema_version":', str(cls.schema_version).encode(), b',"occurred_at":"', occurred,
                b'","producer":', producer, b',"correlation_id":', orjson.dumps(cid), b',"org_id":',
                orjson.dumps(org), b',"key":', orjson.dumps(key), b',"payload":', payload, b"}",
            ))  # fmt: skip
            headers = {"event_id": event_id, "event_type": cls.event_type,
                       "schema_version": str(cls.schema_version), "correlation_id": cid, "org_id": org,
                       PRODUCER_HEADER: self.producer_name}  # fmt: skip
            out.append(Message(cls.topic, key, value, headers))
        return out

    def stage_messages(self, session: Session, messages: Sequence[Message]) -> int:
        """Stage ready envelopes (from `messages`) with one executemany."""
        if not messages:
            return 0
        now = datetime.now(UTC)
        rows = [{"topic": m.topic, "key": m.key, "event_id": m.headers["event_id"], "value": m.value,
                 "headers": m.headers, "created_at": now} for m in messages]  # fmt: skip
        insert_many(session, OutboxMessage, rows)
        self.wakeup.set()
        return len(rows)


class Message(NamedTuple):
    """An event ready for the broker."""

    topic: str
    key: str
    value: bytes
    headers: dict[str, str]


class PendingMessage(NamedTuple):
    """An outbox row waiting for the broker."""

    id: int
    topic: str
    key: str
    value: bytes
    headers: dict[str, str]


AfterPublish = Callable[[Sequence[Message | PendingMessage]], object]


def publish(
    publisher: RawPublisher,
    messages: Sequence[Message | PendingMessage],
    service: str,
    after_publish: AfterPublish | None = None,
) -> None:
    """Send, wait until the broker acknowledged every message (raises if it refused one), then run
    `after_publish` (webhook fan-out)."""
    send(publisher, messages, service).acknowledged(after_publish)


def send(publisher: RawPublisher, messages: Sequence[Message | PendingMessage], service: str) -> Sending:
    """Hand messages to the producer without waiting for the broker: other work can go on while their
    acknowledgements are on their way. A message without a producer header (a row staged before headers
    carried it, or assembled by hand) gets the publishing service's name: consumers require it."""
    for m in messages:
        m.headers.setdefault(PRODUCER_HEADER, service)
    return Sending(publisher, messages, publisher.send_many(messages), service)


class Sending(NamedTuple):
    """Messages handed to the producer, their acknowledgements not yet awaited."""

    publisher: RawPublisher
    messages: Sequence[Message | PendingMessage]
    futures: list[FutureRecordMetadata]
    service: str

    def acknowledged(self, after_publish: AfterPublish | None = None) -> None:
        """Wait until the broker acknowledged every message (raises if it refused one), then run
        `after_publish` (webhook fan-out) and count them."""
        self.publisher.flush(timeout=30)
        for future in self.futures:
            future.get(timeout=30)
        if after_publish is not None:
            after_publish(self.messages)
        for topic, n in Counter(m.topic for m in self.messages).items():
            EVENTS_PUBLISHED.labels(self.service, topic).inc(n)


def publish_pending(
    db: Database,
    publisher: RawPublisher,
    service: str,
    limit: int = 1000,
    after_publish: AfterPublish | None = None,
) -> int:
    """Publish one batch of unpublished rows in id order; rows are marked only after the broker acks.

    `after_publish` (webhook fan-out) runs after the acks and before the rows are marked, so a crash
    repeats it; it must be idempotent.
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    with db.transaction() as session:
        # Plain columns through Core: ORM objects, and the ORM's bulk UPDATE synchronising the session,
        # cost more than publishing the rows.
        query = (
            sa_select(table.c.id, table.c.topic, table.c.key, table.c.value, table.c.headers)
            .where(table.c.published_at.is_(None))
            .order_by(table.c.id)
            .limit(limit)
            # Several replicas can relay at once on PostgreSQL without sending a row twice in the
            # common case; a crash after send but before commit still re-sends (consumers dedupe).
            .with_for_update(skip_locked=True)
        )
        conn = session.connection()
        rows = [PendingMessage(*r) for r in conn.execute(query)]
        if not rows:
            return 0
        fits = [r for r in rows if _size(r) <= MAX_MESSAGE_BYTES - FRAMING_BYTES]
        if len(fits) < len(rows):
            _dead_letter_oversized(publisher, [r for r in rows if r not in fits], service)
        if fits:  # raises if refused: the transaction rolls back
            publish(publisher, fits, service, after_publish)
        # One UPDATE for the batch: row-by-row flushes were the relay's bottleneck at ~2k events/s.
        conn.execute(
            update(table).where(table.c.id.in_([r.id for r in rows])).values(published_at=datetime.now(UTC))
        )
    return len(rows)


def _size(row: PendingMessage) -> int:
    return len(row.value) + len(row.key) + sum(len(k) + len(v) for k, v in row.headers.items())


def _dead_letter_oversized(publisher: RawPublisher, rows: list[PendingMessage], service: str) -> None:
    """An event over the size limit would be refused by the producer on every try and hold back every
    row staged after it, for good: it goes to its topic's dead-letter topic instead (digest, size and an
    excerpt, shared.bus.deadletter) with an error log, and its row is marked like a published one. If
    even the letter is refused, the skip is logged as an ALERT and counted; a broker failure raises, so
    the batch is tried again."""
    sink = DeadLetterSink(publisher, service, f"{service}-outbox-relay", attempts=1)
    for row in rows:
        record = ConsumerRecord(row.topic, -1, -1, row.id, -1, 0, row.key.encode(), row.value,
                                list(row.headers.items()), None, len(row.key), len(row.value), -1)  # fmt: skip
        detail = f"outbox row {row.id}: the event is {_size(row):,} bytes, over the {MAX_MESSAGE_BYTES:,}-byte limit"
        if sink.send(record, DeadLetter("too_large", detail)) == "dead_letter":
            OUTBOX_REFUSED.labels(service, row.topic).inc()


def pending_count(db: Database) -> int:
    with db.transaction() as session:
        stmt = (
            select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.published_at).is_(None))
        )
        return int(session.exec(stmt).one())


class Backoff:
    """The relay's answer to failures: how long to wait before the next try, and when the producer is past
    retrying. A fatal error (shared.bus.producer.is_fatal) calls for a new producer at once, and so do
    `rebuild_after` broker failures in a row (an InitProducerId that never succeeds, a send that times out
    every time): a KafkaProducer that failed that often is not coming back by itself. The wait is capped
    low (5 s): while the broker is away each try already blocks for the producer's `max_block_ms`, and the
    runtime cuts a wait short when the broker answers again (`OutboxRelay.retry_now`)."""

    def __init__(self, base_s: float = 0.5, max_s: float = 5.0, rebuild_after: int = 3) -> None:
        self.base_s, self.max_s, self.rebuild_after = base_s, max_s, rebuild_after
        self.failures = 0  # in a row
        self._broker_failures = 0  # in a row, since the last rebuild

    def failed(self, exc: BaseException) -> tuple[float, bool]:
        """(seconds to wait, whether to rebuild the producer first) after a failed round."""
        self.failures += 1
        wait = min(self.max_s, self.base_s * 2 ** (self.failures - 1))
        if not isinstance(exc, KafkaError):
            return wait, False  # the database, or a bug: a new producer would not help
        self._broker_failures += 1
        rebuild = is_fatal(exc) or self._broker_failures >= self.rebuild_after
        if rebuild:
            self._broker_failures = 0
        return wait, rebuild

    def succeeded(self) -> None:
        self.failures = self._broker_failures = 0


class OutboxRelay(threading.Thread):
    """Background thread that drains the outbox; woken at once whenever something is staged.

    The timed look finds rows no wakeup announced (staged by another process, or left by a crash), so
    it backs off from `poll_interval` to `max_idle_interval` while there is nothing to do: an idle
    relay querying 20 times a second cost a service ~5% of a core, and the interpreter lock with it.
    When publishing fails it waits longer after each failure, and calls `recover` (which makes a new
    producer, and re-creates topics a broker lost) when the failures say the producer is past retrying.
    """

    def __init__(
        self,
        db: Database,
        publisher: RawPublisher,
        outbox: Outbox,
        service: str,
        poll_interval: float,
        after_publish: AfterPublish | None = None,
        max_idle_interval: float = 1.0,
        recover: Callable[[], object] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(name=f"{service}-outbox-relay", daemon=True)
        self.db, self.publisher, self.outbox = db, publisher, outbox
        self.service, self.poll_interval, self.after_publish = service, poll_interval, after_publish
        self.max_idle_interval = max(max_idle_interval, poll_interval)
        self.recover, self.backoff = recover, backoff or Backoff()
        self._stop_event = threading.Event()
        self._retry = threading.Event()  # cuts a back-off short: the broker is back

    def run(self) -> None:
        wait = self.poll_interval
        while not self._stop_event.is_set():
            self.outbox.wakeup.clear()  # before reading: a row staged from now on wakes the next wait
            try:
                published = publish_pending(
                    self.db, self.publisher, self.service, after_publish=self.after_publish
                )
            except Exception as exc:
                self._failed(exc)
                continue
            self.backoff.succeeded()
            if published:
                wait = self.poll_interval
                continue
            OUTBOX_PENDING.labels(self.service).set(0)
            woken = self.outbox.wakeup.wait(wait)
            wait = self.poll_interval if woken else min(wait * 2, self.max_idle_interval)

    def _failed(self, exc: Exception) -> None:
        pause, rebuild = self.backoff.failed(exc)
        log.warning(
            "outbox relay failed; will retry",
            extra={"fields": {"error": f"{type(exc).__name__}: {exc}", "failures": self.backoff.failures,
                              "retry_in_s": pause, "rebuild": rebuild}},
            exc_info=not isinstance(exc, KafkaError),  # the broker's errors say it all; others need a trace
        )  # fmt: skip
        if rebuild and self.recover is not None:
            try:
                self.recover()
            except Exception as again:  # the broker still away: the next failure tries again
                log.warning("producer not rebuilt yet", extra={"fields": {"error": str(again)}})
        self._retry.wait(pause)
        self._retry.clear()

    def retry_now(self) -> None:
        """End the current back-off (the broker answers again): the next round starts at once."""
        self._retry.set()

    def stop(self) -> None:
        self._stop_event.set()
        self._retry.set()
        self.outbox.wakeup.set()
        self.join(timeout=10)
