"""Broker reachability and consumer lag: the arithmetic, the watch following a broker that goes and comes
back (and loses its topics), and exact lag read from Apache Kafka (tansu reports wrong end offsets, so lag
is only checked on Kafka)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from prometheus_client import REGISTRY

from shared import topics
from shared.broker import Broker, free_port
from shared.bus.health import BrokerProbe, BrokerWatch, LagReader, partition_lag
from tests.busutil import creator_messages, produce

TP0, TP1, TP2 = (TopicPartition("t", p) for p in range(3))


def test_partition_lag_counts_from_the_committed_offset_or_the_earliest_kept() -> None:
    lag = partition_lag(
        committed={TP0: 7}, earliest={TP0: 0, TP1: 4, TP2: 0}, latest={TP0: 10, TP1: 9, TP2: 0}
    )
    assert lag == {TP0: 3, TP1: 5, TP2: 0}


def test_partition_lag_is_never_negative_when_a_commit_runs_ahead_of_a_stale_end_offset() -> None:
    assert partition_lag(committed={TP0: 12}, earliest={TP0: 0}, latest={TP0: 10}) == {TP0: 0}


class FakeProbe(BrokerProbe):
    """Answers with the scripted `missing` sets in turn (None: the broker did not answer)."""

    def __init__(self, answers: list[set[str] | None]) -> None:
        super().__init__("127.0.0.1:1", {"a", "b"})
        self.answers = answers

    def missing(self) -> set[str] | None:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def test_watch_follows_the_broker_going_and_coming_back_and_tells_the_service_once() -> None:
    backs: list[int] = []
    watch = BrokerWatch(
        "healthtest", FakeProbe([set(), None, None, set(), set()]), on_back=lambda: backs.append(1)
    )
    assert [watch.check() for _ in range(5)] == [True, False, False, True, True]
    assert backs == [1]  # once, when it came back; not at the first answer
    assert REGISTRY.get_sample_value("tandem_broker_reachable", {"service": "healthtest"}) == 1


def test_watch_recreates_missing_topics_and_is_ready_only_once_they_exist() -> None:
    repaired: list[set[str]] = []
    probe = FakeProbe([{"a", "b"}, set()])  # a broker that lost its topics; after the repair, all there
    watch = BrokerWatch("healthtest", probe, repair=repaired.append)
    assert watch.check()
    assert repaired == [{"a", "b"}]
    unrepaired = BrokerWatch("healthtest", FakeProbe([{"a"}]))
    assert not unrepaired.check()


def test_probe_of_a_closed_port_answers_none_then_a_listener_without_kafka_still_none() -> None:
    """A real round trip: a port that accepts connections but speaks no Kafka is not a broker."""
    port = free_port()
    probe = BrokerProbe(f"127.0.0.1:{port}", {"t"}, timeout_ms=300)
    assert probe.missing() is None
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        assert probe.missing() is None
    probe.close()


@pytest.mark.integration
def test_probe_reports_topics_the_broker_lacks(broker: Broker) -> None:
    probe = BrokerProbe(broker.bootstrap, {topics.CATALOG_CREATORS, "no.such.topic.v1"})
    try:
        assert probe.missing() == {"no.such.topic.v1"}
    finally:
        probe.close()


@pytest.mark.integration
def test_lag_per_partition_is_end_offset_minus_committed_offset(
    broker: Broker, report_counts: Callable[[str], None]
) -> None:
    if broker.kind != "kafka":
        pytest.skip("tansu's end offsets are wrong (../shared/notes/broker.md): lag is read on Apache Kafka")
    produce(broker.bootstrap, topics.CATALOG_CREATORS, creator_messages(900_000, 60, org_id="lag-org"))
    group = f"lagtest-{uuid.uuid4().hex[:6]}"
    consumer = KafkaConsumer(bootstrap_servers=[broker.bootstrap], group_id=group, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topics.CATALOG_CREATORS, p) for p in range(6)]
        ends = consumer.end_offsets(parts)
        # The group has read all but two of partition 0 and nothing of partition 1 (no commit at all).
        committed = {tp: ends[tp] - (2 if tp.partition == 0 else 0) for tp in parts if tp.partition != 1}
        consumer.commit({tp: OffsetAndMetadata(off, "", -1) for tp, off in committed.items()})
        starts = consumer.beginning_offsets(parts)
    finally:
        consumer.close()
    reader = LagReader(broker.bootstrap, group, [topics.CATALOG_CREATORS])
    try:
        lag = reader.read()
    finally:
        reader.close()
    expected = {tp: 2 if tp.partition == 0 else 0 for tp in parts}
    expected[parts[1]] = ends[parts[1]] - starts[parts[1]]
    report_counts(
        f"lag read from Kafka per partition: { {tp.partition: n for tp, n in sorted(lag.items())} }"
    )
    assert lag == expected
    assert lag[parts[1]] > 0
