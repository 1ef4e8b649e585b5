"""The bus on the real brokers and real PostgreSQL: outbox, dead letters, idempotent consumption.

Every test here runs on Apache Kafka and again on tansu: the compatibility subset that keeps the
zero-setup broker of `make run` working."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from services.fraud.models import FraudScore
from shared import topics
from shared.broker import Broker, BrokerKind
from shared.bus.consumer import ConsumerLoop, EventDispatcher
from shared.bus.outbox import Message, Outbox, OutboxRelay, pending_count, publish_pending
from shared.bus.producer import BusProducer
from shared.bus.tables import OutboxMessage, ProcessedEvent
from shared.db import Database, migrate
from shared.events import CreatorUpserted, Envelope, Event, parse_envelope, wrap
from shared.settings import ServiceSettings
from tests.busutil import creator_event, creator_messages, produce, read_topic, started_broker

pytestmark = pytest.mark.integration
FRAUD_MIGRATIONS = Path("services/fraud/migrations")


@pytest.fixture(scope="module", params=["kafka", "tansu"])
def broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A broker of this module's own, so counts are not disturbed by what other tests published."""
    kind: BrokerKind = request.param
    b = started_broker(kind, tmp_path_factory, "bus")
    yield b
    b.close()


@pytest.fixture
def db(postgres_database: Callable[[str], str]) -> Database:
    url = postgres_database("bus")
    migrate(url, FRAUD_MIGRATIONS)
    return Database(url)


def _count(db: Database, model: type) -> int:
    with db.transaction() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def _scores(db: Database, org_id: str) -> int:
    with db.transaction() as s:
        return int(
            s.exec(select(func.count()).select_from(FraudScore).where(FraudScore.org_id == org_id)).one()
        )


def test_outbox_event_reaches_the_broker_after_commit(db: Database, broker: Broker) -> None:
    outbox = Outbox("discovery")  # the topic's owner: consumers refuse other producers
    event = creator_event(1)
    with db.transaction() as session:
        staged = outbox.stage(session, event, org_id="org-a")
    producer = BusProducer(broker.bootstrap, "test-outbox")
    assert publish_pending(db, producer, "test") == 1
    assert pending_count(db) == 0
    found = [
        r
        for r in read_topic(broker.bootstrap, topics.CATALOG_CREATORS, 200, timeout_s=20)
        if r.value and parse_envelope(r.value).event_id == staged.event_id
    ]
    assert len(found) == 1
    assert found[0].key == b"cr-1"
    assert dict(found[0].headers)["org_id"] == b"org-a"
    producer.close()


def test_outbox_publishes_after_a_crash_between_commit_and_publish(db: Database, broker: Broker) -> None:
    """The process 'dies' right after its commit: nothing was sent. A new process's relay sends it."""
    with db.transaction() as session:
        staged = Outbox("discovery").stage(session, creator_event(2), org_id="org-a")
    assert pending_count(db) == 1  # committed, never published

    restarted = Outbox("restarted")
    producer = BusProducer(broker.bootstrap, "test-restarted")
    relay = OutboxRelay(Database(db.url), producer, restarted, "restarted", poll_interval=0.05)
    relay.start()
    try:
        deadline = time.monotonic() + 10
        while pending_count(db) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        relay.stop()
        producer.close()
    assert pending_count(db) == 0
    ids = [
        parse_envelope(r.value).event_id
        for r in read_topic(broker.bootstrap, topics.CATALOG_CREATORS, 500, 20)
    ]
    assert ids.count(staged.event_id) == 1


def _store_score(session: Session, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, CreatorUpserted)
    if event.creator_id == "cr-poison":
        raise RuntimeError("this creator always fails")
    session.add(
        FraudScore(
            org_id=envelope.org_id,
            creator_id=event.creator_id,
            risk=0.1,
            level="low",
            model_name="t",
            model_version="1",
            scored_at=datetime.now(UTC),
        )
    )


def test_bad_events_go_to_the_dlq_with_reasons_and_the_consumer_goes_on(db: Database, broker: Broker) -> None:
    topic = topics.CATALOG_CREATORS
    poison = creator_event(0).model_copy(update={"creator_id": "cr-poison"})
    poison_env = wrap(poison, producer="discovery", correlation_id="c", org_id="dlq-org")
    bad_payload = orjson.dumps({**orjson.loads(poison_env.to_bytes()), "payload": {"creator_id": 5}})
    good = creator_messages(1000, 5, org_id="dlq-org")
    produce(
        broker.bootstrap,
        topic,
        [("k", b"not json at all"), ("k2", bad_payload), (poison_env.key, poison_env.to_bytes()), *good],
    )

    settings = ServiceSettings(
        service_name="dlqtest", kafka_bootstrap=broker.bootstrap, consumer_group="dlq-test"
    )
    producer = BusProducer(broker.bootstrap, "dlq-test")
    dispatcher = EventDispatcher(db, {CreatorUpserted.event_type: _store_score}, producer, "dlqtest", 2, 0.01)
    loop = ConsumerLoop(settings, [topic], dispatcher)
    loop.start()
    try:
        letters = read_topic(broker.bootstrap, topics.dlq(topic), 3, timeout_s=30)
        deadline = time.monotonic() + 20
        while _scores(db, "dlq-org") < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        loop.stop()
        producer.close()
    reasons = {orjson.loads(r.value)["reason"]: orjson.loads(r.value) for r in letters}
    assert set(reasons) == {"invalid_envelope", "invalid_payload", "handler_failed"}
    assert reasons["invalid_envelope"]["original_value"] == "not json at all"
    assert "creator_id" in reasons["invalid_payload"]["detail"]
    assert "always fails" in reasons["handler_failed"]["detail"]
    assert _scores(db, "dlq-org") == 5  # every good event after the bad ones was applied


def test_redelivered_events_are_applied_once(db: Database, broker: Broker) -> None:
    """Two groups stand in for a consumer that re-reads after a crash: the ledger makes it a no-op."""
    messages = creator_messages(2000, 20, org_id="dup-org")
    produce(broker.bootstrap, topics.CATALOG_CREATORS, messages + messages)  # each message twice
    producer = BusProducer(broker.bootstrap, "dup-test")
    dispatcher = EventDispatcher(db, {CreatorUpserted.event_type: _store_score}, producer, "duptest", 2, 0.01)
    records = [
        r
        for r in read_topic(broker.bootstrap, topics.CATALOG_CREATORS, 10_000, timeout_s=60, idle_s=5)
        if r.value and b'"org_id":"dup-org"' in r.value
    ]
    outcomes = [dispatcher.apply(r) for r in records]
    producer.close()
    assert outcomes.count("applied") == 20
    assert outcomes.count("duplicate") == 20
    assert _scores(db, "dup-org") == 20
    assert _count(db, ProcessedEvent) >= 20
    assert _count(db, OutboxMessage) == 0


def test_a_batch_send_puts_every_key_in_the_partition_a_single_send_picks(broker: Broker) -> None:
    """send_many computes partitions itself; per-key order across producers needs them to agree."""
    producer = BusProducer(broker.bootstrap, "test-partitions")
    keys = [f"creator-{uuid.uuid4().hex[:6]}-{i}" for i in range(60)]
    single = [producer.send(topics.FRAUD_SCORES, k, b"{}", {}) for k in keys]
    batch = producer.send_many([Message(topics.FRAUD_SCORES, k, b"{}", {}) for k in keys])
    producer.flush(timeout=30)
    picked = [f.get(timeout=30).partition for f in single]
    assert [f.get(timeout=30).partition for f in batch] == picked
    assert len(set(picked)) > 1
    producer.close()
