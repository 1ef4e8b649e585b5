"""Which partitions a consumer is stuck on, for `/health/ready` and `/metrics`.

A partition is stuck when the poll holding its records failed `failures` times in a row at the same
offset (the loop re-reads from the committed offset after a failure), or when its records have been in
hand for `stuck_after_s` without their offset being committed. Issue 15: a partition crash-looped for
47 minutes behind one message while readiness said 200 throughout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kafka import TopicPartition
from prometheus_client import Gauge

PARTITION_STUCK = Gauge(
    "tandem_consumer_partition_stuck",
    "1 while a partition makes no progress (the same offset failing poll after poll, or in hand too long)",
    ["service", "group", "topic", "partition"],
)


@dataclass
class _InHand:
    offset: int
    since: float
    failures: int = 0


class PartitionProgress:
    """Records what the loop took, committed and failed; thread-safe (readiness reads it)."""

    def __init__(
        self, service: str, group: str, stuck_after_s: float, failures: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.service, self.group = service, group
        self.stuck_after_s, self.failures, self.clock = stuck_after_s, failures, clock
        self._in_hand: dict[TopicPartition, _InHand] = {}
        self._shown: set[TopicPartition] = set()
        self._lock = threading.Lock()

    def took(self, tp: TopicPartition, offset: int) -> None:
        """Records of `tp` from `offset` are in hand. Re-reading the same offset keeps the first time."""
        with self._lock:
            held = self._in_hand.get(tp)
            if held is None or held.offset != offset:
                self._in_hand[tp] = _InHand(offset, self.clock())

    def committed(self, tps: Iterable[TopicPartition]) -> None:
        with self._lock:
            for tp in tps:
                self._in_hand.pop(tp, None)

    def failed(self) -> None:
        """The poll failed: every partition still in hand will be re-read from its committed offset."""
        with self._lock:
            for held in self._in_hand.values():
                held.failures += 1

    def retain(self, assigned: Iterable[TopicPartition]) -> None:
        """Forget partitions the group gave to another member."""
        keep = set(assigned)
        with self._lock:
            for tp in [tp for tp in self._in_hand if tp not in keep]:
                del self._in_hand[tp]

    def stuck(self) -> list[TopicPartition]:
        """The stuck partitions now; also sets their gauges (and clears those that moved on)."""
        now = self.clock()
        with self._lock:
            stuck = {tp for tp, held in self._in_hand.items()
                     if held.failures >= self.failures or now - held.since > self.stuck_after_s}  # fmt: skip
            for tp in stuck | self._shown:
                PARTITION_STUCK.labels(self.service, self.group, tp.topic, str(tp.partition)).set(tp in stuck)
            self._shown = stuck
        return sorted(stuck)
