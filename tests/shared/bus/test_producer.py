"""BusProducer.rebuild: a new KafkaProducer replaces one past retrying, connected before the old is closed."""

from __future__ import annotations

from typing import Any

import pytest
from kafka.errors import (
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    UnknownProducerIdError,
)

from shared.bus import producer as producer_module
from shared.bus.producer import BusProducer, is_fatal


class FakeKafkaProducer:
    """Stands in for kafka-python's producer: knows the probe topic unless the broker is 'away'."""

    made: list[FakeKafkaProducer] = []
    broker_away = False

    def __init__(self, **options: Any) -> None:
        self.options, self.closed, self.sent = options, False, 0
        FakeKafkaProducer.made.append(self)

    def partitions_for(self, topic: str) -> set[int] | None:
        if FakeKafkaProducer.broker_away:
            raise KafkaTimeoutError("Failed to update metadata")
        return {0}

    def send(self, topic: str, **kwargs: Any) -> str:
        self.sent += 1
        return "future"

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


@pytest.fixture
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> type[FakeKafkaProducer]:
    FakeKafkaProducer.made, FakeKafkaProducer.broker_away = [], False
    monkeypatch.setattr(producer_module, "KafkaProducer", FakeKafkaProducer)
    return FakeKafkaProducer


def test_rebuild_swaps_in_a_new_producer_and_closes_the_old(fake_kafka: type[FakeKafkaProducer]) -> None:
    bus = BusProducer("127.0.0.1:9092", "fraud", max_block_ms=500)
    bus.send("t", "k", b"v", {})
    bus.rebuild()
    first, second = fake_kafka.made
    bus.send("t", "k", b"v", {})
    assert (first.closed, second.closed, first.sent, second.sent) == (True, False, 1, 1)
    assert bus.generation == 2
    assert second.options["client_id"] == "fraud" and second.options["max_block_ms"] == 500


def test_rebuild_while_the_broker_is_away_raises_and_keeps_the_old(
    fake_kafka: type[FakeKafkaProducer],
) -> None:
    bus = BusProducer("127.0.0.1:9092", "fraud")
    fake_kafka.broker_away = True
    with pytest.raises(KafkaTimeoutError):
        bus.rebuild()
    assert bus.generation == 1
    assert not fake_kafka.made[0].closed and fake_kafka.made[1].closed
    fake_kafka.broker_away = False
    bus.rebuild()
    assert bus.generation == 2


def test_fatal_errors_are_the_ones_retrying_cannot_fix() -> None:
    assert is_fatal(UnknownProducerIdError())
    # What tansu answers an old producer after a restart (seen: shared/bus/producer.py).
    assert is_fatal(KafkaError("Unexpected error in InitProducerIdResponse: [Error -1] UnknownError"))
    assert not is_fatal(MessageSizeTooLargeError())  # the record's fault: the dead-letter path's job
    assert not is_fatal(KafkaTimeoutError())
    assert not is_fatal(NotLeaderForPartitionError())
    assert not is_fatal(TimeoutError())
