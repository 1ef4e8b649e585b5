"""Broker reachability for `/health/ready`, and consumer lag per partition for `/metrics` (and KEDA).

One background thread per service process: a TCP connect to the bootstrap servers every couple of
seconds (cheap, and it recovers by itself when the broker is back, unlike a flag set at start-up), and
every `lag_interval_s` the group's committed offsets against the partitions' end offsets, through one
admin client. Scrapes read the gauges; they never call the broker.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Mapping

from kafka import TopicPartition
from kafka.admin import KafkaAdminClient, OffsetSpec
from prometheus_client import Gauge

log = logging.getLogger(__name__)

BROKER_REACHABLE = Gauge(
    "tandem_broker_reachable", "1 while a bootstrap server accepts connections", ["service"]
)
CONSUMER_LAG = Gauge(
    "tandem_consumer_lag",
    "Messages behind: end offset minus the group's committed offset, per partition",
    ["service", "group", "topic", "partition"],
)


def reachable(bootstrap: str, timeout_s: float = 1.0) -> bool:
    """True if any bootstrap server accepts a TCP connection."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "localhost", int(port)), timeout=timeout_s):
                return True
        except (OSError, ValueError):
            continue
    return False


def partition_lag(
    committed: Mapping[TopicPartition, int],
    earliest: Mapping[TopicPartition, int],
    latest: Mapping[TopicPartition, int],
) -> dict[TopicPartition, int]:
    """Lag of every partition with an end offset; where the group has committed nothing yet it will
    start from the earliest offset (auto_offset_reset=earliest), so everything retained is lag."""
    return {
        tp: max(0, end - max(committed.get(tp, -1), earliest.get(tp, 0)))
        for tp, end in latest.items()
    }  # fmt: skip


class LagReader:
    """Reads one consumer group's lag on its topics through one admin client (made again after errors)."""

    def __init__(self, bootstrap: str, group: str, topics: list[str], request_timeout_ms: int = 5000) -> None:
        self.bootstrap, self.group, self.topics = bootstrap, group, topics
        self.request_timeout_ms = request_timeout_ms
        self._admin: KafkaAdminClient | None = None

    def _client(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap.split(","), client_id=f"{self.group}-lag",
                request_timeout_ms=self.request_timeout_ms, bootstrap_timeout_ms=self.request_timeout_ms,
            )  # fmt: skip
        return self._admin

    def read(self) -> dict[TopicPartition, int]:
        admin = self._client()
        try:
            partitions = [
                TopicPartition(t["name"], p["partition_index"])
                for t in admin.describe_topics(self.topics)
                for p in t["partitions"]
            ]
            committed = admin.list_group_offsets({self.group: None}).get(self.group, {})
            ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
            starts = admin.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in partitions})
        except Exception:
            self.close()  # a fresh client next time: metadata and coordinators may have moved
            raise
        return partition_lag(
            {tp: m.offset for tp, m in committed.items() if m.offset >= 0},
            {tp: o.offset for tp, o in starts.items()},
            {tp: o.offset for tp, o in ends.items()},
        )

    def close(self) -> None:
        if self._admin is not None:
            try:
                self._admin.close()
            finally:
                self._admin = None


class BrokerWatch(threading.Thread):
    """Keeps `reachable` current and, for a consuming service, the lag gauges."""

    def __init__(
        self, service: str, bootstrap: str, lag: LagReader | None = None,
        check_interval_s: float = 2.0, lag_interval_s: float = 15.0,
    ) -> None:  # fmt: skip
        super().__init__(name=f"{service}-broker-watch", daemon=True)
        self.service, self.bootstrap, self.lag = service, bootstrap, lag
        self.check_interval_s, self.lag_interval_s = check_interval_s, lag_interval_s
        self.reachable = reachable(bootstrap)
        self.last_lag: dict[TopicPartition, int] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        since_lag = self.lag_interval_s  # the first lag reading as soon as the broker answers
        while not self._stop_event.is_set():
            self.reachable = reachable(self.bootstrap)
            BROKER_REACHABLE.labels(self.service).set(1 if self.reachable else 0)
            if self.lag is not None and self.reachable and since_lag >= self.lag_interval_s:
                since_lag = 0.0
                self._update_lag(self.lag)
            self._stop_event.wait(self.check_interval_s)
            since_lag += self.check_interval_s

    def _update_lag(self, lag: LagReader) -> None:
        try:
            self.last_lag = lag.read()
        except Exception as exc:  # the broker restarting, a coordinator moving: try again next round
            log.warning("consumer lag not readable", extra={"fields": {"error": str(exc)}})
            return
        for tp, behind in self.last_lag.items():
            CONSUMER_LAG.labels(self.service, lag.group, tp.topic, str(tp.partition)).set(behind)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
        if self.lag is not None:
            self.lag.close()
