"""A partition is stuck after failing polls at one offset, or records held too long; moving on clears it."""

from __future__ import annotations

from kafka import TopicPartition
from prometheus_client import REGISTRY

from shared.bus.progress import PartitionProgress

TP = TopicPartition("catalog.creators.v1", 3)
OTHER = TopicPartition("catalog.creators.v1", 4)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _gauge(group: str, tp: TopicPartition) -> float | None:
    labels = {"service": "fraud", "group": group, "topic": tp.topic, "partition": str(tp.partition)}
    return REGISTRY.get_sample_value("tandem_consumer_partition_stuck", labels)


def test_the_same_offset_failing_three_polls_in_a_row_is_stuck_until_committed() -> None:
    progress = PartitionProgress("fraud", "g-fail", stuck_after_s=60, clock=Clock())
    for _ in range(3):
        assert progress.stuck() == []
        progress.took(TP, 40)
        progress.failed()
    assert progress.stuck() == [TP]
    assert _gauge("g-fail", TP) == 1
    progress.took(TP, 40)
    progress.committed([TP])
    assert progress.stuck() == []
    assert _gauge("g-fail", TP) == 0


def test_records_in_hand_too_long_are_stuck_even_without_a_failure() -> None:
    clock = Clock()
    progress = PartitionProgress("fraud", "g-slow", stuck_after_s=60, clock=clock)
    progress.took(TP, 5)
    progress.took(OTHER, 9)
    progress.committed([OTHER])
    clock.now += 61
    assert progress.stuck() == [TP]


def test_progress_at_a_new_offset_restarts_the_count() -> None:
    progress = PartitionProgress("fraud", "g-new", stuck_after_s=60, clock=Clock())
    for offset in (1, 1, 2):
        progress.took(TP, offset)
        progress.failed()
    assert progress.stuck() == []


def test_partitions_given_to_another_member_are_forgotten() -> None:
    progress = PartitionProgress("fraud", "g-revoked", stuck_after_s=60, failures=1, clock=Clock())
    progress.took(TP, 1)
    progress.failed()
    progress.retain([OTHER])
    assert progress.stuck() == []
