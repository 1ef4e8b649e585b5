"""The consumer loop: one thread per service process, idempotent by event_id, dead letters with reasons.

Offsets are committed only after every record of a poll has been stored (its transaction committed)
or dead-lettered (the DLQ write acknowledged), so a crash anywhere re-delivers, and the processed-event
ledger turns the re-delivery into a no-op.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError as DBAPIConnectionError
from sqlmodel import Session

from shared.bus import provenance
from shared.bus.deadletter import DeadLetter, DeadLetterSink
from shared.bus.outbox import AfterPublish, Message, send
from shared.bus.producer import RawPublisher
from shared.bus.progress import PartitionProgress
from shared.bus.security import client_options
from shared.bus.tables import ProcessedEvent
from shared.collector import collector_paused
from shared.db import Database, existing, insert_many
from shared.errors import Invalid
from shared.events import (
    EVENT_TYPES,
    EnvelopeMeta,
    Event,
    UnknownEventType,
    parse_envelope,
    parse_typed,
    unwrap,
)
from shared.observability import EVENTS_CONSUMED, correlation
from shared.settings import BROKER_HEADROOM_BYTES, MAX_MESSAGE_BYTES, ServiceSettings

log = logging.getLogger(__name__)

UNKNOWN_EVENT_TYPES = Counter(
    "tandem_unknown_event_types_total",
    "Events of a type this build does not know (a newer producer?), dead-lettered",
    ["service", "topic", "type"],
)

Handler = Callable[[Session, Event, EnvelopeMeta], None]


class PreparedBatch(NamedTuple):
    """A batch handler's answer, worked out without the database: the events to publish, and how to
    store the batch's effects in the transaction."""

    messages: Sequence[Message]
    store: Callable[[Session], None]


# Prepares many events of one type together (one model call); optional per type. The dispatcher sends
# the messages, stores the batch while the broker's acks are on their way, and waits for them before the
# transaction commits (see `_apply_batch`).
BatchHandler = Callable[[list[tuple[Event, EnvelopeMeta]]], PreparedBatch]


def in_one_transaction(handler: Handler) -> BatchHandler:
    """A batch handler that applies a poll's events of one type with `handler`, one after the other, in
    the poll's one transaction: one commit instead of one per event, for a replica working through a
    backlog. What the handler stages goes through the outbox as usual; if any event fails, the poll is
    applied one by one (`EventDispatcher.apply_many`)."""

    def prepare(items: list[tuple[Event, EnvelopeMeta]]) -> PreparedBatch:
        def store(session: Session) -> None:
            for event, meta in items:
                with correlation(meta.correlation_id):
                    handler(session, event, meta)

        return PreparedBatch((), store)

    return prepare


class EventDispatcher:
    """Applies one record: parse, dedupe, run the handler in a transaction, or dead-letter it."""

    def __init__(
        self,
        db: Database,
        handlers: dict[str, Handler],
        publisher: RawPublisher,
        service: str,
        retries: int = 3,
        backoff_s: float = 0.2,
        batch_handlers: dict[str, BatchHandler] | None = None,
        after_publish: AfterPublish | None = None,
        *,
        group: str = "",
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        dead_letter_attempts: int = 5,
    ) -> None:
        self.db, self.handlers, self.publisher = db, handlers, publisher
        self.service, self.retries, self.backoff_s = service, retries, backoff_s
        self.max_message_bytes = max_message_bytes
        self.letters = DeadLetterSink(publisher, service, group or f"tandem-{service}", max_message_bytes,
                                      dead_letter_attempts)  # fmt: skip
        self.batch_handlers = batch_handlers or {}
        self.after_publish = after_publish
        # Which type to expect on a record without an event_type header: a topic's only batch type.
        by_topic: dict[str, list[type[Event]]] = {}
        for event_type in self.batch_handlers:
            by_topic.setdefault(EVENT_TYPES[event_type].topic, []).append(EVENT_TYPES[event_type])
        self._batch_type_of_topic = {t: types[0] for t, types in by_topic.items() if len(types) == 1}

    def apply_many(self, records: list[ConsumerRecord]) -> list[tuple[ConsumerRecord, str]]:
        """Apply a poll's records: types with a batch handler in one transaction, the rest one by one.

        If the batch transaction fails, every record of it goes through `apply` (retries, then the
        DLQ), so one poison event costs speed, never correctness.
        """
        if not self.batch_handlers:
            return [(r, self.apply(r)) for r in records]
        outcomes: list[tuple[ConsumerRecord, str]] = []
        batches: dict[str, list[tuple[ConsumerRecord, Event, EnvelopeMeta]]] = {}
        for record in records:
            parsed = self._parse_for_batch(record)
            if parsed is None:
                outcomes.append((record, self.apply(record)))
            else:
                batches.setdefault(parsed[1].type, []).append((record, *parsed))
        for event_type, items in batches.items():
            try:
                outcomes.extend(self._apply_batch(self.batch_handlers[event_type], items))
            except Exception as exc:
                log.warning("batch failed; applying one by one", extra={"fields": {"error": str(exc)}})
                outcomes.extend((r, self.apply(r)) for r, _, _ in items)
        return outcomes

    def _parse_for_batch(self, record: ConsumerRecord) -> tuple[Event, EnvelopeMeta] | None:
        """The typed event if its type has a batch handler; None sends it down the one-by-one path
        (which also dead-letters what does not parse, with the reason)."""
        cls = self._expected_type(record)
        if cls is None or len(record.value or b"") > self.max_message_bytes:
            return None
        try:
            event, meta = parse_typed(record.value or b"", cls)
        except (ValidationError, UnknownEventType):
            return None
        return None if provenance.refusal(record, meta.producer) else (event, meta)

    def _expected_type(self, record: ConsumerRecord) -> type[Event] | None:
        for name, value in record.headers or ():
            if name == "event_type":
                event_type = value.decode(errors="replace")
                return EVENT_TYPES[event_type] if event_type in self.batch_handlers else None
        return self._batch_type_of_topic.get(record.topic)

    def _apply_batch(
        self, handler: BatchHandler, items: list[tuple[ConsumerRecord, Event, EnvelopeMeta]]
    ) -> list[tuple[ConsumerRecord, str]]:
        ids = [str(env.event_id) for _, _, env in items]
        with self.db.transaction() as session:
            done = existing(session, ProcessedEvent, "event_id", ids)
            fresh: dict[str, tuple[ConsumerRecord, Event, EnvelopeMeta]] = {}
            for event_id, item in zip(ids, items, strict=True):
                if event_id not in done:
                    fresh.setdefault(event_id, item)
            if fresh:
                prepared = handler([(event, env) for _, event, env in fresh.values()])
                # Published straight from here rather than through the outbox: the relay's extra write,
                # read and mark per event were a third of a stream event's cost. Sent before the batch is
                # stored (the producer starts sending at once), so the acks come back meanwhile, and
                # awaited before the commit: a crash or a failed commit re-delivers the poll and
                # re-publishes (the handler derives event ids from the source event's, so consumers
                # dedupe); nothing is lost. A failure here rolls back and the poll goes one by one,
                # through the outbox.
                sending = send(self.publisher, prepared.messages, self.service) if prepared.messages else None
                prepared.store(session)
                now = datetime.now(UTC)
                insert_many(session, ProcessedEvent, [
                    {"event_id": eid, "topic": r.topic, "event_type": env.type, "processed_at": now}
                    for eid, (r, _, env) in fresh.items()
                ])  # fmt: skip
                if sending is not None:
                    sending.acknowledged(self.after_publish)
        applied = {id(r) for r, _, _ in fresh.values()}
        return [(r, "applied" if id(r) in applied else "duplicate") for r, _, _ in items]

    def apply(self, record: ConsumerRecord) -> str:
        """Handle one record and return the outcome label (applied, duplicate, ignored, dead_letter,
        skipped)."""
        size = len(record.value or b"")
        if size > self.max_message_bytes:
            # No producer of ours can send it: not worth parsing, and what a handler would publish
            # in reply to it could be too large as well.
            return self._dead_letter(
                record, DeadLetter("too_large", f"{size} bytes > {self.max_message_bytes}")
            )
        try:
            envelope = parse_envelope(record.value or b"")
        except ValidationError as exc:
            return self._dead_letter(record, DeadLetter("invalid_envelope", _short(exc)))
        handler = self.handlers.get(envelope.type)
        if handler is None and envelope.type in EVENT_TYPES:
            return "ignored"  # another service's event type on a shared topic
        if reason := provenance.refusal(record, envelope.producer):
            return self._dead_letter(record, DeadLetter("unauthorized_producer", reason))
        if handler is None:
            return self._unknown_type(record, envelope.type)
        try:
            event = unwrap(envelope)
        except (ValidationError, UnknownEventType) as exc:
            return self._dead_letter(record, DeadLetter("invalid_payload", _short(exc)))
        with correlation(envelope.correlation_id):
            return self._apply_with_retries(record, handler, event, envelope)

    def _apply_with_retries(
        self, record: ConsumerRecord, handler: Handler, event: Event, env: EnvelopeMeta
    ) -> str:
        last_error = ""
        for attempt in range(1, self.retries + 1):
            try:
                return self._apply_once(record, handler, event, env)
            except DBAPIConnectionError:
                # The database is unreachable: not the event's fault, so no dead letter. The loop backs
                # off without committing, and the event is re-read when the database is back.
                raise
            except Invalid as exc:
                # The event itself is wrong (e.g. a result for a line no plan has): a retry gives the same
                # answer, and retrying with back-off held every event behind it for ~1.4 s each.
                return self._dead_letter(record, DeadLetter("invalid_event", f"{type(exc).__name__}: {exc}"))
            except Exception as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "handler failed",
                    extra={
                        "fields": {"event_id": str(env.event_id), "attempt": attempt, "error": last_error}
                    },
                )
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
        return self._dead_letter(record, DeadLetter("handler_failed", last_error))

    def _apply_once(self, record: ConsumerRecord, handler: Handler, event: Event, env: EnvelopeMeta) -> str:
        event_id = str(env.event_id)
        try:
            with self.db.transaction() as session:
                if session.get(ProcessedEvent, event_id) is not None:
                    return "duplicate"
                handler(session, event, env)
                session.add(
                    ProcessedEvent(
                        event_id=event_id,
                        topic=record.topic,
                        event_type=env.type,
                        processed_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            # A concurrent delivery of the same event won the race; its effect is already stored.
            with self.db.transaction() as session:
                if session.get(ProcessedEvent, event_id) is not None:
                    return "duplicate"
            raise
        return "applied"

    def _unknown_type(self, record: ConsumerRecord, event_type: str) -> str:
        """A type no event class names: dead-lettered (so it can be replayed once this build knows it),
        counted and logged with the type, never dropped silently."""
        UNKNOWN_EVENT_TYPES.labels(self.service, record.topic, event_type[:100]).inc()
        log.warning("unknown event type", extra={"fields": {"topic": record.topic, "type": event_type[:200]}})
        return self._dead_letter(
            record, DeadLetter("unknown_event_type", f"unknown event type {event_type!r}")
        )

    def _dead_letter(self, record: ConsumerRecord, letter: DeadLetter) -> str:
        return self.letters.send(record, letter)


def _log_failed_commit(offsets: object, response: object) -> None:
    if isinstance(response, Exception):
        log.warning(
            "offset commit failed; the poll will be re-delivered", extra={"fields": {"error": str(response)}}
        )


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:10])
    return str(exc)


class ConsumerLoop(threading.Thread):
    """Polls the service's topics in its consumer group and applies each batch before committing."""

    def __init__(self, settings: ServiceSettings, topics: list[str], dispatcher: EventDispatcher) -> None:
        super().__init__(name=f"{settings.service_name}-consumer", daemon=True)
        self.settings, self.topics, self.dispatcher = settings, topics, dispatcher
        self._stop_event = threading.Event()
        self._reconnect = threading.Event()
        self.assigned = threading.Event()
        self.progress = PartitionProgress(
            settings.service_name, settings.effective_consumer_group, settings.consumer_stuck_after_s
        )

    def reconnect(self) -> None:
        """Leave the current poll and join again with a new KafkaConsumer (the broker came back, maybe
        without the topics or the group it had: a new client looks everything up afresh)."""
        self._reconnect.set()

    def _make_consumer(self) -> KafkaConsumer:
        consumer = self._new_consumer()
        try:
            self._await_topic_metadata(consumer)
        except Exception:
            consumer.close()
            raise
        consumer.subscribe(self.topics)
        return consumer

    def _await_topic_metadata(self, consumer: KafkaConsumer, timeout_s: float = 30) -> None:
        """Load every subscribed topic's partitions before joining the group. A member that joins first
        can lead the group with no partitions known ("No partition metadata for topic ..."), and then the
        whole group waits idle until a metadata refresh triggers a rebalance: seen on a loaded machine."""
        deadline = time.monotonic() + timeout_s
        missing = list(self.topics)
        while missing:
            missing = [t for t in missing if not consumer.partitions_for_topic(t)]
            if missing and (time.monotonic() > deadline or self._stop_event.is_set()):
                raise TimeoutError(f"no partitions known for {missing[:3]}")
            if missing:
                time.sleep(0.2)

    def _new_consumer(self) -> KafkaConsumer:
        s = self.settings
        return KafkaConsumer(
            **client_options(s),
            bootstrap_servers=s.kafka_bootstrap.split(","),
            group_id=s.effective_consumer_group,
            client_id=f"{s.service_name}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            allow_auto_create_topics=False,
            session_timeout_ms=s.kafka_session_timeout_ms,
            heartbeat_interval_ms=s.kafka_heartbeat_interval_ms,
            fetch_max_wait_ms=s.kafka_fetch_max_wait_ms,
            max_poll_records=s.kafka_max_poll_records,
            metadata_max_age_ms=s.kafka_metadata_max_age_ms,
            # A whole batch of the largest message the broker accepts, fetched in one go.
            max_partition_fetch_bytes=s.kafka_max_message_bytes + BROKER_HEADROOM_BYTES,
        )

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                consumer = self._make_consumer()
            except Exception:
                log.exception("cannot connect consumer; retrying")
                self._stop_event.wait(1.0)
                continue
            try:
                self._poll_until_stopped(consumer)
            except DBAPIConnectionError:
                self.progress.failed()
                log.exception("database unreachable; re-reading from the last committed offset shortly")
                self._stop_event.wait(2.0)
            except Exception:
                self.progress.failed()
                log.exception("consumer loop failed; reconnecting without committing the failed batch")
                self._stop_event.wait(1.0)
            finally:
                consumer.close(autocommit=False)

    def _poll_until_stopped(self, consumer: KafkaConsumer) -> None:
        service = self.settings.service_name
        self._reconnect.clear()
        while not self._stop_event.is_set():
            if self._reconnect.is_set():
                return  # uncommitted records come again to the new consumer; the ledger skips them
            batch: dict[TopicPartition, list[ConsumerRecord]] = consumer.poll(timeout_ms=200)
            if assignment := consumer.assignment():
                self.assigned.set()
                self.progress.retain(assignment)
            if not batch:
                self.progress.stuck()  # keeps the gauges current
                continue
            for tp, records in batch.items():
                self.progress.took(tp, records[0].offset)
            # The poll's partitions together: one transaction and one publish per poll rather than per
            # partition (each partition's records keep their order). The collector is paused meanwhile
            # (shared.collector): the poll's events hold no cycles and die with it.
            polled = [record for records in batch.values() for record in records]
            with collector_paused():
                outcomes = Tally((r.topic, outcome) for r, outcome in self.dispatcher.apply_many(polled))
            for (topic, outcome), n in outcomes.items():
                EVENTS_CONSUMED.labels(service, topic, outcome).inc(n)
            # Every record of the poll is stored or dead-lettered by now. The commit goes out without
            # waiting for its answer (a round trip per poll was ~5% of a stream's time): if it is lost,
            # the poll is re-delivered and the processed-event ledger makes that a no-op.
            consumer.commit_async(callback=_log_failed_commit)
            self.progress.committed(batch)
        consumer.commit()  # stopping: the last poll's offsets, this time waiting for the broker

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=15)
