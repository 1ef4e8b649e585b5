"""Broker reachability for `/health/ready`, and consumer lag per partition for `/metrics` (and KEDA).

One background thread per service process: a Metadata round trip to the broker every couple of seconds
through one cached admin client (a TCP connect was not enough: a broker that accepts connections but has
lost its topics, or does not answer requests, served no event), and every `lag_interval_s` the group's
committed offsets against the partitions' end offsets. Readiness and scrapes read the last answer; they
never call the broker. When the broker answers again after an outage, the watch re-creates the topics it
lost and tells the service (which makes a new producer: shared.runtime.Runtime.recover_bus).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from typing import Any

from kafka import TopicPartition
from kafka.admin import KafkaAdminClient, OffsetSpec
from prometheus_client import Gauge

log = logging.getLogger(__name__)

BROKER_REACHABLE = Gauge(
    "tandem_broker_reachable", "1 while the broker answers and has the service's topics", ["service"]
)
CONSUMER_LAG = Gauge(
    "tandem_consumer_lag",
    "Messages behind: end offset minus the group's committed offset, per partition",
    ["service", "group", "topic", "partition"],
)


class BrokerProbe:
    """One Metadata round trip: does the broker answer, and which of `topics` does it lack? Through one
    admin client kept between checks (made again after an error: the broker may be a new one)."""

    def __init__(
        self, bootstrap: str, topics: Collection[str], security: Mapping[str, Any] | None = None,
        timeout_ms: int = 3000,
    ) -> None:  # fmt: skip
        self.bootstrap, self.topics, self.security = bootstrap, set(topics), dict(security or {})
        self.timeout_ms = timeout_ms
        self._admin: KafkaAdminClient | None = None

    def missing(self) -> set[str] | None:
        """The wanted topics the broker does not have, or None if it did not answer."""
        try:
            if self._admin is None:
                self._admin = KafkaAdminClient(
                    **self.security, bootstrap_servers=self.bootstrap.split(","), client_id="tandem-health",
                    request_timeout_ms=self.timeout_ms, bootstrap_timeout_ms=self.timeout_ms,
                )  # fmt: skip
            return self.topics - set(self._admin.list_topics())
        except Exception as exc:  # refused, timed out, a broker going down mid-request: not answering
            log.debug("broker probe failed", extra={"fields": {"error": str(exc)}})
            self.close()
            return None

    def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                admin.close()
            except Exception as exc:  # closing a client of a broker that is gone: nothing to keep
                log.debug("closing the probe's client failed", extra={"fields": {"error": str(exc)}})


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
    """Keeps `reachable` current (the broker answers and has the service's topics) and, for a consuming
    service, the lag gauges. `repair` gets the missing topics to create; `on_back` runs when the broker
    answers again after it did not (or after its topics were missing)."""

    def __init__(
        self, service: str, probe: BrokerProbe, lag: LagReader | None = None,
        check_interval_s: float = 2.0, lag_interval_s: float = 15.0,
        repair: Callable[[set[str]], object] | None = None, on_back: Callable[[], object] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(name=f"{service}-broker-watch", daemon=True)
        self.service, self.probe, self.lag = service, probe, lag
        self.check_interval_s, self.lag_interval_s = check_interval_s, lag_interval_s
        self.repair, self.on_back = repair, on_back
        self.reachable = False
        self.last_lag: dict[TopicPartition, int] = {}
        self._lost = False  # the broker was away (or without topics) since the last time it was fine
        self._stop_event = threading.Event()

    def check(self) -> bool:
        """One round: ask the broker, repair what it lost, tell the service when it is back."""
        missing = self.probe.missing()
        if missing and self.repair is not None:
            try:
                self.repair(missing)
            except Exception as exc:  # no rights to create topics, or the broker went away again
                log.warning("missing topics not created", extra={"fields": {"error": str(exc)}})
            missing = self.probe.missing()
        if missing is None or missing:
            if not self._lost:
                log.warning("broker lost", extra={"fields": {"missing_topics": sorted(missing or [])[:5]}})
            self._lost = True
        elif self._lost:
            self._lost = False
            log.warning("broker back")
            if self.on_back is not None:
                self._call_on_back(self.on_back)
        self.reachable = missing == set()
        BROKER_REACHABLE.labels(self.service).set(1 if self.reachable else 0)
        return self.reachable

    def _call_on_back(self, on_back: Callable[[], object]) -> None:
        try:
            on_back()
        except Exception as exc:  # the service's own retries (the relay's) take it from here
            log.warning("recovery after the broker's return failed", extra={"fields": {"error": str(exc)}})

    def run(self) -> None:
        since_lag = self.lag_interval_s  # the first lag reading as soon as the broker answers
        while not self._stop_event.is_set():
            if self.check() and self.lag is not None and since_lag >= self.lag_interval_s:
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
        self.probe.close()
        if self.lag is not None:
            self.lag.close()
