"""EventDispatcher: parse, dedupe, apply in a transaction with retries, or dead-letter with a reason.

Runs against a SQLite database migrated with the fraud service's migrations and a hand-written fake
publisher, so no broker is involved.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client import REGISTRY
from sqlalchemy import event as sa_event
from sqlalchemy import func
from sqlmodel import Session, select

from services.fraud.models import FraudScore
from shared.bus.consumer import ConsumerLoop, EventDispatcher, Handler, in_one_transaction
from shared.bus.tables import ProcessedEvent
from shared.db import Database, migrate
from shared.errors import Invalid
from shared.events import AccountStats, CreatorUpserted, Envelope, EnvelopeMeta, Event, MarketStats, wrap
from shared.settings import ServiceSettings
from shared.topics import CATALOG_CREATORS, dlq
from tests.busutil import FakeFuture, SendsOneByOne

REPO = Path(__file__).resolve().parents[3]
TOPIC = CATALOG_CREATORS
EVENT_TYPE = CreatorUpserted.event_type


@dataclass
class Sent:
    topic: str
    key: str
    value: bytes
    headers: dict[str, str]


@dataclass
class FakePublisher(SendsOneByOne):
    """Records every send; its futures fail with `error` when one is set."""

    error: Exception | None = None
    sent: list[Sent] = field(default_factory=list)
    flushes: int = 0

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> FakeFuture:
        self.sent.append(Sent(topic, key, value, dict(headers)))
        return FakeFuture(self.error)

    def flush(self, timeout: float | None = None) -> None:
        self.flushes += 1

    def letter(self, index: int = 0) -> dict[str, Any]:
        doc: dict[str, Any] = orjson.loads(self.sent[index].value)
        return doc


@dataclass
class Calls:
    seen: list[str] = field(default_factory=list)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'fraud.db'}"
    migrate(url, REPO / "services" / "fraud" / "migrations")
    database = Database(url)
    yield database
    database.close()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


def _event(creator_id: str = "cr-1") -> CreatorUpserted:
    account = AccountStats(platform="instagram", handle="h", followers=5000, engagement_rate=0.02)
    return CreatorUpserted(creator_id=creator_id, name="N", home_market="US", languages=["en"], categories=["food"],
                           accounts=[account], audience=[MarketStats(market="US", audience_share=0.5, engagement_rate=0.02)],
                           updated_at=datetime.now(UTC))  # fmt: skip


def _envelope(event: Event | None = None) -> Envelope:
    return wrap(event or _event(), producer="discovery", correlation_id="cid-7", org_id="acme")


def _record(value: bytes, offset: int = 0, key: bytes | None = b"cr-1") -> ConsumerRecord:
    return ConsumerRecord(
        topic=TOPIC, partition=2, leader_epoch=-1, offset=offset, timestamp=0, timestamp_type=0, key=key,
        value=value, headers=[("producer", b"discovery")], checksum=None, serialized_key_size=len(key or b""),
        serialized_value_size=len(value), serialized_header_size=-1,
    )  # fmt: skip


def _recording_handler(calls: Calls) -> Handler:
    def handle(session: Session, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, CreatorUpserted)
        calls.seen.append(event.creator_id)

    return handle


def _dispatcher(
    db: Database, publisher: FakePublisher, handlers: dict[str, Handler], retries: int = 3
) -> EventDispatcher:
    return EventDispatcher(db, handlers, publisher, "fraud", retries=retries, backoff_s=0)  # type: ignore[arg-type]


def _processed(db: Database) -> list[ProcessedEvent]:
    with db.transaction() as session:
        return list(session.exec(select(ProcessedEvent)))


def test_apply_runs_handler_and_records_processed_event(db: Database, publisher: FakePublisher) -> None:
    calls = Calls()
    env = _envelope()
    outcome = _dispatcher(db, publisher, {EVENT_TYPE: _recording_handler(calls)}).apply(
        _record(env.to_bytes())
    )
    assert outcome == "applied"
    assert calls.seen == ["cr-1"]
    [row] = _processed(db)
    assert (row.event_id, row.topic, row.event_type) == (str(env.event_id), TOPIC, EVENT_TYPE)
    assert publisher.sent == []


def test_apply_sets_correlation_id_of_envelope_for_handler(db: Database, publisher: FakePublisher) -> None:
    from shared.observability import current_correlation_id

    seen: list[str | None] = []

    def handle(session: Session, event: Event, envelope: Envelope) -> None:
        seen.append(current_correlation_id())

    _dispatcher(db, publisher, {EVENT_TYPE: handle}).apply(_record(_envelope().to_bytes()))
    assert seen == ["cid-7"]


def test_apply_invalid_json_dead_letters_invalid_envelope_with_original_bytes(
    db: Database, publisher: FakePublisher
) -> None:
    raw = b'{"type": "creator.upserted", oops'
    outcome = _dispatcher(db, publisher, {}).apply(_record(raw, offset=41))
    assert outcome == "dead_letter"
    [sent] = publisher.sent
    assert sent.topic == dlq(TOPIC) == "catalog.creators.v1.dlq"
    assert sent.key == "cr-1"
    assert sent.headers == {"dlq_reason": "invalid_envelope", "original_topic": TOPIC,
                            "consumer_group": "tandem-fraud", "original_partition": "2", "original_offset": "41"}  # fmt: skip
    letter = publisher.letter()
    assert letter["reason"] == "invalid_envelope"
    assert letter["original_value"] == raw.decode()
    assert (letter["original_topic"], letter["original_partition"], letter["original_offset"]) == (
        TOPIC,
        2,
        41,
    )
    assert letter["original_key"] == "cr-1"
    assert letter["detail"]
    assert datetime.fromisoformat(letter["failed_at"]).tzinfo is not None


def test_apply_non_utf8_value_dead_letters_base64_original(db: Database, publisher: FakePublisher) -> None:
    raw = b"\xff\xfe\x00binary"
    assert _dispatcher(db, publisher, {}).apply(_record(raw, key=None)) == "dead_letter"
    letter = publisher.letter()
    assert letter["reason"] == "invalid_envelope"
    assert base64.b64decode(letter["original_value"]["base64"]) == raw
    assert letter["original_key"] is None
    assert publisher.sent[0].key == ""


def test_apply_json_that_is_not_envelope_dead_letters_invalid_envelope(
    db: Database, publisher: FakePublisher
) -> None:
    assert _dispatcher(db, publisher, {}).apply(_record(b'{"hello": "world"}')) == "dead_letter"
    assert publisher.letter()["reason"] == "invalid_envelope"
    assert "type" in publisher.letter()["detail"]


def test_apply_invalid_payload_dead_letters_invalid_payload(db: Database, publisher: FakePublisher) -> None:
    calls = Calls()
    env = _envelope()
    bad = env.model_copy(update={"payload": {k: v for k, v in env.payload.items() if k != "home_market"}})
    outcome = _dispatcher(db, publisher, {EVENT_TYPE: _recording_handler(calls)}).apply(
        _record(bad.to_bytes())
    )
    assert outcome == "dead_letter"
    assert publisher.sent[0].headers["dlq_reason"] == "invalid_payload"
    letter = publisher.letter()
    assert letter["reason"] == "invalid_payload"
    assert "home_market" in letter["detail"]
    assert orjson.loads(letter["original_value"])["payload"]["creator_id"] == "cr-1"
    assert calls.seen == []
    assert _processed(db) == []


def test_apply_newer_schema_version_dead_letters_invalid_payload(
    db: Database, publisher: FakePublisher
) -> None:
    calls = Calls()
    env = _envelope().model_copy(update={"schema_version": 3})
    outcome = _dispatcher(db, publisher, {EVENT_TYPE: _recording_handler(calls)}).apply(
        _record(env.to_bytes())
    )
    assert outcome == "dead_letter"
    assert publisher.letter()["reason"] == "invalid_payload"
    assert "newer" in publisher.letter()["detail"]
    assert calls.seen == []


def test_apply_failing_handler_dead_letters_handler_failed_after_retries(
    db: Database, publisher: FakePublisher
) -> None:
    attempts: list[int] = []

    def boom(session: Session, event: Event, envelope: Envelope) -> None:
        attempts.append(1)
        raise RuntimeError("database says no")

    outcome = _dispatcher(db, publisher, {EVENT_TYPE: boom}, retries=4).apply(_record(_envelope().to_bytes()))
    assert outcome == "dead_letter"
    assert len(attempts) == 4
    letter = publisher.letter()
    assert letter["reason"] == "handler_failed"
    assert letter["detail"] == "RuntimeError: database says no"
    assert _processed(db) == []


def test_an_invalid_event_is_dead_lettered_at_once_without_retries(
    db: Database, publisher: FakePublisher
) -> None:
    """A domain refusal of the event itself (Invalid) gives the same answer every time: no back-off."""
    attempts: list[int] = []

    def refuse(session: Session, event: Event, envelope: Envelope) -> None:
        attempts.append(1)
        raise Invalid("campaign cmp-1 has no content plan, so no line l-9", field="line_id")

    outcome = _dispatcher(db, publisher, {EVENT_TYPE: refuse}, retries=4).apply(
        _record(_envelope().to_bytes())
    )
    assert outcome == "dead_letter" and len(attempts) == 1
    assert publisher.letter()["reason"] == "invalid_event"
    assert "no line l-9" in publisher.letter()["detail"]
    assert _processed(db) == []


def test_apply_failing_handler_rolls_back_its_writes(db: Database, publisher: FakePublisher) -> None:
    def write_then_fail(session: Session, event: Event, envelope: Envelope) -> None:
        session.add(FraudScore(org_id=envelope.org_id, creator_id="cr-1", risk=0.5, level="medium",
                               model_name="m", model_version="1", scored_at=datetime.now(UTC)))  # fmt: skip
        session.flush()
        raise ValueError("after the write")

    assert (
        _dispatcher(db, publisher, {EVENT_TYPE: write_then_fail}).apply(_record(_envelope().to_bytes()))
        == "dead_letter"
    )
    with db.transaction() as session:
        assert session.exec(select(func.count()).select_from(FraudScore)).one() == 0


def test_apply_flaky_handler_succeeds_on_retry(db: Database, publisher: FakePublisher) -> None:
    attempts: list[int] = []

    def flaky(session: Session, event: Event, envelope: Envelope) -> None:
        attempts.append(1)
        if len(attempts) < 2:
            raise ConnectionError("blip")

    assert _dispatcher(db, publisher, {EVENT_TYPE: flaky}).apply(_record(_envelope().to_bytes())) == "applied"
    assert len(attempts) == 2
    assert publisher.sent == []
    assert len(_processed(db)) == 1


def test_apply_same_event_twice_is_duplicate_and_handler_runs_once(
    db: Database, publisher: FakePublisher
) -> None:
    calls = Calls()
    dispatcher = _dispatcher(db, publisher, {EVENT_TYPE: _recording_handler(calls)})
    raw = _envelope().to_bytes()
    assert dispatcher.apply(_record(raw, offset=1)) == "applied"
    assert dispatcher.apply(_record(raw, offset=2)) == "duplicate"
    assert calls.seen == ["cr-1"]
    assert len(_processed(db)) == 1
    assert publisher.sent == []


def test_apply_same_payload_with_new_event_id_is_applied_again(
    db: Database, publisher: FakePublisher
) -> None:
    calls = Calls()
    dispatcher = _dispatcher(db, publisher, {EVENT_TYPE: _recording_handler(calls)})
    event = _event()
    assert dispatcher.apply(_record(_envelope(event).to_bytes())) == "applied"
    assert dispatcher.apply(_record(_envelope(event).to_bytes())) == "applied"
    assert calls.seen == ["cr-1", "cr-1"]


def test_apply_event_type_without_handler_is_ignored(db: Database, publisher: FakePublisher) -> None:
    outcome = _dispatcher(db, publisher, {"fraud.scored": lambda s, e, env: None}).apply(
        _record(_envelope().to_bytes())
    )
    assert outcome == "ignored"
    assert publisher.sent == []
    assert _processed(db) == []


def test_apply_unknown_type_is_counted_and_dead_lettered_with_the_type(
    db: Database, publisher: FakePublisher, caplog: pytest.LogCaptureFixture
) -> None:
    env = _envelope().model_copy(update={"type": "other.service_event", "payload": {"anything": 1}})
    labels = {"service": "fraud", "topic": TOPIC, "type": "other.service_event"}
    before = REGISTRY.get_sample_value("tandem_unknown_event_types_total", labels) or 0.0
    with caplog.at_level("WARNING"):
        assert _dispatcher(db, publisher, {}).apply(_record(env.to_bytes())) == "dead_letter"
    assert REGISTRY.get_sample_value("tandem_unknown_event_types_total", labels) == before + 1
    assert publisher.letter()["reason"] == "unknown_event_type"
    assert "other.service_event" in publisher.letter()["detail"]
    warned = [r for r in caplog.records if r.getMessage() == "unknown event type"]
    assert warned and warned[0].levelname == "WARNING"
    assert warned[0].fields["type"] == "other.service_event"  # type: ignore[attr-defined]


def test_apply_unknown_type_from_a_producer_that_may_not_publish_is_unauthorized(
    db: Database, publisher: FakePublisher
) -> None:
    env = _envelope().model_copy(update={"type": "made.up", "producer": "stranger"})
    assert _dispatcher(db, publisher, {}).apply(_record(env.to_bytes())) == "dead_letter"
    assert publisher.letter()["reason"] == "unauthorized_producer"


def test_apply_raises_when_dead_letter_is_not_acknowledged(db: Database) -> None:
    failing = FakePublisher(error=TimeoutError("broker down"))
    with pytest.raises(TimeoutError, match="broker down"):
        _dispatcher(db, failing, {}).apply(_record(b"not json"))
    assert len(failing.sent) == 1


# --- the poll loop, with a hand-written consumer --------------------------------------------------------


class FakeConsumer:
    """Hands out prepared batches, then stops the loop; records commits."""

    def __init__(self, loop: ConsumerLoop, batches: list[list[ConsumerRecord]]) -> None:
        self.loop, self.batches = loop, list(batches)
        self.commits: list[str] = []
        self.polls = 0

    def poll(self, timeout_ms: int) -> dict[str, list[ConsumerRecord]]:
        self.polls += 1
        if not self.batches:
            self.loop._stop_event.set()
            return {}
        batch = self.batches.pop(0)
        return {"tp": batch} if batch else {}

    def assignment(self) -> set[str]:
        return {"tp"}

    def commit(self) -> None:
        self.commits.append(f"sync@{self.polls}")

    def commit_async(self, callback: object = None) -> None:
        self.commits.append(f"async@{self.polls}")


def _loop(dispatcher: EventDispatcher) -> ConsumerLoop:
    return ConsumerLoop(ServiceSettings(service_name="fraud"), [TOPIC], dispatcher)


def test_poll_loop_applies_each_batch_then_commits(db: Database, publisher: FakePublisher) -> None:
    calls = Calls()
    loop = _loop(_dispatcher(db, publisher, {EVENT_TYPE: _recording_handler(calls)}))
    raws = [_envelope(_event(f"cr-{i}")).to_bytes() for i in range(3)]
    consumer = FakeConsumer(loop, [[_record(raws[0], 0), _record(raws[1], 1)], [], [_record(raws[2], 2)]])
    labels = {"service": "fraud", "topic": TOPIC, "outcome": "applied"}
    before = REGISTRY.get_sample_value("tandem_events_consumed_total", labels) or 0.0
    loop._poll_until_stopped(consumer)  # type: ignore[arg-type]
    assert calls.seen == ["cr-0", "cr-1", "cr-2"]
    # After each non-empty batch (not after an empty poll), and once more, waited for, when stopping.
    assert consumer.commits == ["async@1", "async@3", "sync@4"]
    assert loop.assigned.is_set()
    assert REGISTRY.get_sample_value("tandem_events_consumed_total", labels) == before + 3


def test_poll_loop_does_not_commit_when_dead_letter_fails(db: Database) -> None:
    failing = FakePublisher(error=TimeoutError("broker down"))
    loop = _loop(_dispatcher(db, failing, {}))
    consumer = FakeConsumer(loop, [[_record(b"garbage", 0)]])
    with pytest.raises(TimeoutError):
        loop._poll_until_stopped(consumer)  # type: ignore[arg-type]
    assert consumer.commits == []


def test_apply_database_outage_raises_instead_of_dead_lettering(
    db: Database, publisher: FakePublisher
) -> None:
    """An unreachable database goes back to the loop (which backs off uncommitted), not to the DLQ."""
    from sqlalchemy.exc import OperationalError

    def outage(session: Session, event: Event, envelope: Envelope) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    dispatcher = _dispatcher(db, publisher, {CreatorUpserted.event_type: outage})
    with pytest.raises(OperationalError):
        dispatcher.apply(_record(_envelope().to_bytes()))
    assert publisher.sent == []


# --- in_one_transaction: a poll's events through a one-by-one handler, one commit ------------------------


def _storing_handler(calls: Calls, fail_on: str | None = None) -> Handler:
    """Stores a score row per creator (so a rolled-back attempt leaves no trace); raises on `fail_on`."""

    def handle(session: Session, event: Event, envelope: EnvelopeMeta) -> None:
        assert isinstance(event, CreatorUpserted)
        calls.seen.append(event.creator_id)
        if event.creator_id == fail_on:
            raise ValueError("cannot apply this one")
        session.add(FraudScore(org_id=envelope.org_id, creator_id=event.creator_id, risk=0.1, level="low",
                               reasons=[], model_name="m", model_version="1", scored_at=datetime.now(UTC)))  # fmt: skip

    return handle


def _batched(db: Database, publisher: FakePublisher, handler: Handler) -> EventDispatcher:
    return EventDispatcher(db, {EVENT_TYPE: handler}, publisher, "fraud", retries=1, backoff_s=0,  # type: ignore[arg-type]
                           batch_handlers={EVENT_TYPE: in_one_transaction(handler)})  # fmt: skip


def _records_of(*creators: str) -> list[ConsumerRecord]:
    return [_record(_envelope(_event(c)).to_bytes(), i) for i, c in enumerate(creators)]


def test_in_one_transaction_applies_a_poll_in_one_commit_and_dedupes(
    db: Database, publisher: FakePublisher
) -> None:
    calls = Calls()
    dispatcher = _batched(db, publisher, _storing_handler(calls))
    records = _records_of("cr-1", "cr-2", "cr-3")
    commits: list[object] = []
    sa_event.listen(db.engine, "commit", lambda conn: commits.append(conn))
    assert [o for _, o in dispatcher.apply_many(records)] == ["applied"] * 3
    assert len(commits) == 1
    assert [o for _, o in dispatcher.apply_many(records)] == ["duplicate"] * 3
    assert calls.seen == ["cr-1", "cr-2", "cr-3"]
    with db.transaction() as s:
        assert len(list(s.exec(select(FraudScore)))) == 3
    assert len(_processed(db)) == 3


def test_in_one_transaction_failure_falls_back_one_by_one_with_nothing_applied_twice(
    db: Database, publisher: FakePublisher
) -> None:
    calls = Calls()
    dispatcher = _batched(db, publisher, _storing_handler(calls, fail_on="cr-2"))
    outcomes = [o for _, o in dispatcher.apply_many(_records_of("cr-1", "cr-2", "cr-3"))]
    assert sorted(outcomes) == ["applied", "applied", "dead_letter"]
    with db.transaction() as s:
        assert sorted(r.creator_id for r in s.exec(select(FraudScore))) == ["cr-1", "cr-3"]
    assert len(_processed(db)) == 2
    assert [x.topic for x in publisher.sent] == [dlq(TOPIC)]
