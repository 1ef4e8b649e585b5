"""Poison messages on Apache Kafka, counted exactly: oversized and binary messages are dead-lettered (or,
when not even their dead letter can be stored, skipped with an alert) and every valid event behind them is
applied within seconds; a partition that cannot move on shows in readiness and a gauge.

Issue 15: an 800 KB binary message's dead letter exceeded the producer's 1 MiB limit, and the consumer
re-read it ~570 times in 47 minutes, every event behind it waiting, readiness 200 throughout.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from shared import topics
from shared.broker_kafka import KafkaBroker, kafka_available
from shared.bus.consumer import ConsumerLoop, EventDispatcher, Handler
from shared.bus.outbox import Outbox
from shared.bus.producer import BusProducer
from shared.bus.provenance import PRODUCER_HEADER
from shared.db import Database, migrate
from shared.events import CreatorUpserted, EnvelopeMeta, Event
from shared.runtime import Runtime
from shared.settings import MAX_MESSAGE_BYTES, ServiceSettings
from tandem.supervisor import Suite
from tests.busutil import chosen_broker_kind, creator_messages, read_topic, sql_count
from tests.e2e.test_faults import _metric, _published_scores, _ready_status, _wait

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
TOPIC = topics.CATALOG_CREATORS
VALID = 300  # in three runs of 100, around the two poison messages


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """Apache Kafka of this module's own (started with the project's message.max.bytes), so the tests'
    groups and counts see nothing but what they produce."""
    if chosen_broker_kind() != "kafka" or not kafka_available():
        pytest.skip("poison messages are tested on Apache Kafka (needs Java and Maven or the jar cache)")
    with KafkaBroker(log_path=tmp_path_factory.mktemp("poison-kafka") / "kafka.log") as broker:
        yield broker


def _start_group_at_end(bootstrap: str, group: str, topic: str) -> None:
    """Commit the group's offsets at the end of `topic`, so it sees only what the test produces next."""
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], group_id=group, enable_auto_commit=False)
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(parts)
    consumer.seek_to_end(*parts)
    consumer.commit({tp: OffsetAndMetadata(consumer.position(tp), "", -1) for tp in parts})
    consumer.close()


def _produce_on_one_partition(bootstrap: str, values: list[tuple[str, bytes]]) -> None:
    """Everything on partition 0, in order, so the valid events really wait behind the poison. Compressed
    and with a 4 MiB request limit, as a producer outside Tandem might be: a 2 MB JSON message compresses
    far below the broker's limit and reaches consumers whole."""
    producer = KafkaProducer(bootstrap_servers=[bootstrap], acks="all", compression_type="gzip",
                             max_request_size=4 * 1024 * 1024, linger_ms=5)  # fmt: skip
    for key, value in values:
        producer.send(
            TOPIC, key=key.encode(), value=value, partition=0, headers=[(PRODUCER_HEADER, b"discovery")]
        )
    producer.flush()
    producer.close()


def _poison(org: str) -> tuple[bytes, bytes]:
    """A 2 MB creator event (valid but for its size) and a 900 KB binary message."""
    [(_, raw)] = creator_messages(9_000_000, 1, org_id=org)
    huge = orjson.loads(raw)
    huge["payload"]["name"] = "x" * 2_000_000
    return orjson.dumps(huge), os.urandom(900_000)


def _letters(bootstrap: str, group: str) -> list[dict[str, object]]:
    return [
        orjson.loads(r.value) for r in read_topic(bootstrap, topics.dlq(TOPIC), expect=10**9, timeout_s=30)
        if dict(r.headers).get("consumer_group") == group.encode()
    ]  # fmt: skip


def test_oversized_and_binary_messages_are_dead_lettered_and_the_events_behind_them_applied(
    kafka: KafkaBroker,
    postgres_database: Callable[[str], str],
    tmp_path: Path,
    report_counts: Callable[[str], None],
) -> None:
    org, group = "poison-org", "tandem-fraud-poison"
    url = postgres_database("poison")
    _start_group_at_end(kafka.bootstrap, group, TOPIC)
    suite = Suite(bootstrap=kafka.bootstrap, workdir=tmp_path, database_urls={"fraud": url},
                  extra_env={"TANDEM_FRAUD_CONSUMER_GROUP": group})  # fmt: skip
    fraud = suite.add("fraud")
    fraud.start()
    scores = f"SELECT count(*) FROM fraud_score WHERE org_id = '{org}'"
    try:
        fraud.wait_ready()
        huge, binary = _poison(org)
        valid = creator_messages(500_000, VALID, org_id=org)
        began = time.monotonic()
        _produce_on_one_partition(
            kafka.bootstrap,
            [*valid[:100], ("cr-huge", huge), *valid[100:200], ("cr-bin", binary), *valid[200:]],
        )
        took = _wait(
            lambda: sql_count(url, scores) >= VALID, 60, "the events behind the poison were not applied"
        )
        time.sleep(2)  # let any re-delivery land before counting
        stored = sql_count(url, scores)
        letters = _letters(kafka.bootstrap, group)
        copies, event_ids, creators = _published_scores(kafka.bootstrap, org)
        consumed = {labels["outcome"]: v for labels, v in _metric(fraud, "tandem_events_consumed_total")
                    if labels["topic"] == TOPIC}  # fmt: skip
        skipped = sum(v for _, v in _metric(fraud, "tandem_dead_letters_failed_total"))
        ready = _ready_status(fraud)
        report_counts(f"poison: {VALID} valid events around a {len(huge)} B message and a {len(binary)} B binary"
                      f" one on one partition: all applied {took:.1f}s after the last was produced"
                      f" ({time.monotonic() - began:.1f}s from the first); {stored} scores stored, {copies} score messages"
                      f" = {len(event_ids)} event ids for {len(creators)} creators; {len(letters)} dead letters"
                      f" ({sorted(str(x['reason']) for x in letters)}, sizes"
                      f" {sorted(len(orjson.dumps(x)) for x in letters)} B); consumed {consumed}; skipped"
                      f" {skipped:.0f}; readiness {ready}")  # fmt: skip
        assert stored == VALID
        assert copies == len(event_ids) == len(creators) == VALID
        assert sorted(str(x["reason"]) for x in letters) == ["invalid_envelope", "too_large"]
        by_reason = {x["reason"]: x for x in letters}
        for letter, original in ((by_reason["too_large"], huge), (by_reason["invalid_envelope"], binary)):
            assert len(orjson.dumps(letter)) < MAX_MESSAGE_BYTES
            assert letter["original_truncated"] is True
            assert letter["original_sha256"] == hashlib.sha256(original).hexdigest()
            assert letter["consumer_group"] == group
        assert consumed.get("dead_letter") == 2 and consumed.get("applied") == VALID
        assert skipped == 0
        assert ready == 200
    finally:
        suite.stop()


def _applied_to(seen: list[str]) -> Handler:
    def handle(session: Session, event: Event, meta: EnvelopeMeta) -> None:
        assert isinstance(event, CreatorUpserted)
        seen.append(event.creator_id)

    return handle


def _fresh_group(kafka: KafkaBroker, tmp_path: Path, group: str) -> Database:
    """A fraud database for a consumer group that will see only what the test produces next."""
    url = f"sqlite:///{tmp_path / f'{group}.db'}"
    migrate(url, Path("services/fraud/migrations"))
    _start_group_at_end(kafka.bootstrap, group, TOPIC)
    return Database(url)


def _loop(
    kafka: KafkaBroker, group: str, producer: BusProducer, handler: Handler, db: Database
) -> ConsumerLoop:
    settings = ServiceSettings(service_name="poisontest", kafka_bootstrap=kafka.bootstrap, consumer_group=group,
                               consumer_stuck_after_s=600)  # fmt: skip
    dispatcher = EventDispatcher(db, {CreatorUpserted.event_type: handler}, producer, "poisontest", 1, 0,
                                 group=group)  # fmt: skip
    return ConsumerLoop(settings, [TOPIC], dispatcher)


def test_a_message_whose_dead_letter_is_refused_is_skipped_with_an_alert_and_the_offset_moves_on(
    kafka: KafkaBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The broker refuses every dead letter (a producer whose limit not even a pointer fits): the binary
    message is skipped once, with the alert metric and an error log, and the events behind it applied."""
    group = "poison-skip"
    db = _fresh_group(kafka, tmp_path, group)
    valid = creator_messages(600_000, 20, org_id="skip-org")
    _produce_on_one_partition(kafka.bootstrap, [*valid[:10], ("cr-bin", os.urandom(900_000)), *valid[10:]])
    labels = {"service": "poisontest", "group": group, "topic": TOPIC}
    seen: list[str] = []
    tight = BusProducer(kafka.bootstrap, "poison-skip", max_request_size=300)
    loop = _loop(kafka, group, tight, _applied_to(seen), db)
    with caplog.at_level("ERROR"):
        loop.start()
        try:
            _wait(lambda: len(seen) >= 20, 60, "the events behind the skipped message were not applied")
            time.sleep(1)
        finally:
            loop.stop()
            tight.close()
            db.close()
    assert sorted(seen) == sorted(k for k, _ in valid)  # each once, in a single pass
    assert REGISTRY.get_sample_value("tandem_dead_letters_failed_total", labels) == 1
    assert [r for r in caplog.records if "skipped" in r.getMessage() and r.levelname == "ERROR"]
    assert _lag(kafka.bootstrap, group) == 0  # committed past the skipped message
    assert loop.progress.stuck() == []


def _lag(bootstrap: str, group: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], group_id=group, enable_auto_commit=False)
    parts = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC) or ()]
    ends = consumer.end_offsets(parts)
    lag = sum(ends[tp] - (consumer.committed(tp) or 0) for tp in parts)
    consumer.close()
    return lag


def test_a_partition_that_cannot_move_on_is_reported_stuck(kafka: KafkaBroker, tmp_path: Path) -> None:
    """The database is down for one event: the loop re-reads it poll after poll (rightly: it is not the
    event's fault), and the partition shows as stuck until the event goes through."""
    group = "poison-stuck"
    db = _fresh_group(kafka, tmp_path, group)
    outage = {"on": True}
    seen: list[str] = []

    def handler(session: Session, event: Event, meta: EnvelopeMeta) -> None:
        if outage["on"]:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        _applied_to(seen)(session, event, meta)

    _produce_on_one_partition(kafka.bootstrap, creator_messages(700_000, 1, org_id="stuck-org"))
    producer = BusProducer(kafka.bootstrap, "poison-stuck")
    loop = _loop(kafka, group, producer, handler, db)
    loop.start()
    try:
        _wait(
            lambda: loop.progress.stuck() == [TopicPartition(TOPIC, 0)],
            90,
            "the partition was not reported stuck",
        )
        gauge = {"service": "poisontest", "group": group, "topic": TOPIC, "partition": "0"}
        assert REGISTRY.get_sample_value("tandem_consumer_partition_stuck", gauge) == 1
        runtime = Runtime(settings=loop.settings, db=db, outbox=Outbox("poisontest"), consumer=loop)
        assert runtime.readiness()["partitions"] is False  # /health/ready answers 503
        outage["on"] = False
        _wait(lambda: seen == ["cr-700000"], 60, "the event did not go through once the database was back")
        _wait(lambda: loop.progress.stuck() == [], 10, "the partition still shows stuck")
        assert REGISTRY.get_sample_value("tandem_consumer_partition_stuck", gauge) == 0
        assert runtime.readiness()["partitions"] is True
    finally:
        loop.stop()
        producer.close()
        db.close()
