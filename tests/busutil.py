"""Helpers for tests that read what really reached the broker."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import yaml
from jsonschema import Draft7Validator
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from sqlalchemy import create_engine, text

from shared import topics
from shared.broker import Broker, BrokerKind, make_broker
from shared.bus.producer import Sendable
from shared.bus.provenance import PRODUCER_HEADER
from shared.events import AccountStats, CreatorUpserted, MarketStats, wrap
from tandem.commands.docs import ASYNCAPI_PATH


def chosen_broker_kind() -> BrokerKind:
    """Apache Kafka unless TANDEM_TEST_BROKER=tansu (a machine without Java, or a quick local run)."""
    kind = os.environ.get("TANDEM_TEST_BROKER", "kafka")
    if kind not in ("kafka", "tansu"):
        raise pytest.UsageError(f"TANDEM_TEST_BROKER={kind!r}: choose kafka or tansu")
    return "tansu" if kind == "tansu" else "kafka"


def started_broker(kind: BrokerKind, tmp_path_factory: pytest.TempPathFactory, label: str) -> Broker:
    """A broker of `kind` on free loopback ports with every topic created; its log in the test's tmp."""
    log = tmp_path_factory.mktemp(f"{label}-{kind}") / "broker.log"
    return make_broker(kind, log_path=log).start()


def sql_count(url: str, sql: str) -> int:
    """A `SELECT count(*)` on a service's database, from outside the service."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


class FakeFuture:
    """A send's future for fake publishers: acknowledged, or failing with `error`."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> str:
        if self.error is not None:
            raise self.error
        return "acked"


class SendsOneByOne:
    """For fake publishers: a batch send is each message's `send` in turn."""

    def send_many(self, messages: Sequence[Sendable]) -> list[Any]:
        return [self.send(m.topic, m.key, m.value, m.headers) for m in messages]  # type: ignore[attr-defined]


FIRST_RECORD_GRACE_S = 15.0


def read_topic(
    bootstrap: str, topic: str, expect: int, timeout_s: float = 30, idle_s: float = 3.0
) -> list[ConsumerRecord]:
    """Read `topic` from the start until `expect` records, `idle_s` of silence, or the timeout.

    Every partition is assigned by hand, not through a consumer group: a group joined just after a broker
    restart, before the metadata knew the topic's partitions, was assigned nothing ("No partition metadata")
    and read nothing for its whole timeout (one CI run read 0 of 300 acknowledged scores)."""
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], enable_auto_commit=False, fetch_max_wait_ms=100)
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout_s
    try:
        last = time.monotonic()
        while len(records) < expect and time.monotonic() < deadline:
            if not consumer.assignment():
                parts = consumer.partitions_for_topic(topic)  # None until the metadata has the topic
                if not parts:
                    time.sleep(0.2)
                    last = time.monotonic()  # a topic not there yet is not silence
                    continue
                consumer.assign([TopicPartition(topic, p) for p in sorted(parts)])
                consumer.seek_to_beginning()
            batches = consumer.poll(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
            if batches:
                last = time.monotonic()
            # Before the first record, a broker that just restarted may answer fetches empty for a while:
            # a longer wait then, so a fresh broker's slow start does not read as an empty topic.
            elif time.monotonic() - last > (idle_s if records else max(idle_s, FIRST_RECORD_GRACE_S)):
                break
    finally:
        consumer.close()
    return records


def creator_event(n: int, followers: int = 20_000) -> CreatorUpserted:
    account = AccountStats(
        platform="instagram",
        handle=f"c{n}",
        followers=followers,
        following=300,
        posts=400,
        engagement_rate=0.02,
        avg_likes=380,
        avg_comments=20,
        max_monthly_growth=0.04,
        median_monthly_growth=0.02,
    )
    return CreatorUpserted(
        creator_id=f"cr-{n}",
        name=f"Creator {n}",
        home_market="US",
        languages=["en"],
        categories=["beauty"],
        accounts=[account],
        audience=[MarketStats(market="US", audience_share=0.7, engagement_rate=0.02)],
        updated_at=datetime.now(UTC),
    )


def owner(topic: str) -> str:
    """A service that may publish to `topic`: tests that stand in for it produce as it."""
    return sorted(topics.PRODUCERS[topic])[0]


def _claimed_producer(topic: str, value: bytes) -> str:
    try:
        return str(orjson.loads(value)["producer"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return owner(topic)


def produce(bootstrap: str, topic: str, values: list[tuple[str, bytes]]) -> None:
    """Put records on `topic` as a Tandem service does: the producer header names the envelope's producer
    (consumers dead-letter events whose producer may not publish there)."""
    producer = KafkaProducer(bootstrap_servers=[bootstrap], acks="all", linger_ms=5)
    for key, value in values:
        header = (PRODUCER_HEADER, _claimed_producer(topic, value).encode())
        producer.send(topic, key=key.encode(), value=value, headers=[header])
    producer.flush()
    producer.close()


def creator_messages(start: int, count: int, org_id: str = "demo") -> list[tuple[str, bytes]]:
    out = []
    for n in range(start, start + count):
        env = wrap(creator_event(n), producer="discovery", correlation_id=f"corr-{n}", org_id=org_id)
        out.append((env.key, env.to_bytes()))
    return out


@functools.cache
def _asyncapi() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(ASYNCAPI_PATH.read_text())
    return doc


@functools.cache
def _message_validator(name: str, part: str) -> Draft7Validator:
    """A validator of one message's payload or headers, references resolved in the whole document
    (AsyncAPI's default schema format is a superset of JSON Schema draft 7)."""
    doc = _asyncapi()
    return Draft7Validator({"components": doc["components"], "$ref": f"#/components/messages/{name}/{part}"})


def contract_violations(topic: str, value: bytes, headers: Mapping[str, str | bytes]) -> list[str]:
    """How a message on `topic` breaks docs/asyncapi.yaml (its channel, its message, payload, headers)."""
    doc = _asyncapi()
    env = orjson.loads(value)
    channels = [c for c in doc["channels"].values() if c["address"] == topic]
    if not channels:
        return [f"{topic}: no channel in the document"]
    names = [ref["$ref"].rsplit("/", 1)[1] for ref in channels[0]["messages"].values()]
    known = [n for n in names if doc["components"]["messages"][n]["name"] == env.get("type")]
    if not known:
        return [f"{topic}: no message {env.get('type')!r} on its channel"]
    plain = {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items()}
    return [
        f"{known[0]} {part}: {error.json_path}: {error.message}"
        for part, instance in (("payload", env), ("headers", plain))
        for error in _message_validator(known[0], part).iter_errors(instance)
    ]


def everything_published(bootstrap: str, idle_s: float = 3.0, timeout_s: float = 90) -> list[ConsumerRecord]:
    """Every record on every Tandem topic (not the dead-letter topics), read from the start without a
    group, until `idle_s` of silence."""
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], enable_auto_commit=False, fetch_max_wait_ms=100)
    parts = [TopicPartition(t.name, p) for t in topics.TOPICS for p in range(t.partitions)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    records: list[ConsumerRecord] = []
    deadline, last = time.monotonic() + timeout_s, time.monotonic()
    try:
        while time.monotonic() - last < idle_s and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
                last = time.monotonic()
    finally:
        consumer.close()
    return records
