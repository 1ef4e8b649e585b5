"""A thin kafka-python producer: acks=all, keyed by aggregate id, headers carry tracing metadata."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.producer.future import FutureRecordMetadata

from shared.bus.partitioning import default_partitions
from shared.settings import MAX_MESSAGE_BYTES
from shared.topics import MODELS_PROMOTED


class Sendable(Protocol):
    """A ready event (an outbox row, or a message a consumer publishes directly)."""

    @property
    def topic(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def value(self) -> bytes: ...
    @property
    def headers(self) -> dict[str, str]: ...


class RawPublisher(Protocol):
    """What the outbox relay, the consumers and the dead-letter path need from a producer."""

    def send(
        self, topic: str, key: str, value: bytes, headers: Mapping[str, str]
    ) -> FutureRecordMetadata: ...

    def send_many(self, messages: Sequence[Sendable]) -> list[FutureRecordMetadata]: ...

    def flush(self, timeout: float | None = None) -> None: ...


class BusProducer:
    """Owns one KafkaProducer for the process."""

    def __init__(
        self,
        bootstrap: str,
        client_id: str,
        probe_topic: str = MODELS_PROMOTED,
        max_block_ms: int = 30_000,
        security: Mapping[str, Any] | None = None,
        max_request_size: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self._producer = KafkaProducer(
            **dict(security or {}),  # authentication (shared.bus.security.client_options)
            bootstrap_servers=bootstrap.split(","),
            client_id=client_id,
            acks="all",
            # The relay sends a batch of rows and then flushes, and the dead-letter path flushes too,
            # so a long linger costs no latency; it keeps batches open while a relay batch is appended
            # (a short one made the sender drain and re-create batches, waking its thread per record).
            linger_ms=100,
            batch_size=512 * 1024,
            # lz4 roughly triples throughput on this broker (../shared/notes/broker.md).
            compression_type="lz4",
            allow_auto_create_topics=False,
            retries=5,
            request_timeout_ms=15000,
            # How long a send waits for metadata while the broker is away before it raises: a consumer's
            # batch then goes through the outbox instead (kafka-python's default is 60 s).
            max_block_ms=max_block_ms,
            # Refused here, before sending, rather than by the broker (shared.settings.MAX_MESSAGE_BYTES).
            max_request_size=max_request_size,
        )
        # Metadata for a known topic proves the broker answers and the topics exist; after that,
        # readiness follows shared.bus.health.BrokerWatch (reachability now, not a start-up flag).
        if not self._producer.partitions_for(probe_topic):
            self._producer.close(timeout=1)
            raise RuntimeError(f"topic {probe_topic} not found: create topics first (tandem topics create)")

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> FutureRecordMetadata:
        return self._producer.send(
            topic,
            key=key.encode(),
            value=value,
            headers=[(k, v.encode()) for k, v in headers.items()],
        )

    def send_many(self, messages: Sequence[Sendable]) -> list[FutureRecordMetadata]:
        """Send a batch, its keys' partitions computed together (see shared.bus.partitioning)."""
        by_topic: dict[str, list[int]] = {}
        for i, m in enumerate(messages):
            by_topic.setdefault(m.topic, []).append(i)
        partition_of: dict[int, int] = {}
        for topic, rows in by_topic.items():
            known = self._producer.partitions_for(topic)  # waits for metadata, as send() would
            keys = [messages[i].key.encode() for i in rows]
            partition_of.update(zip(rows, default_partitions(keys, list(known)), strict=True))
        return [
            self._producer.send(m.topic, key=m.key.encode(), value=m.value, partition=partition_of[i],
                                headers=[(k, v.encode()) for k, v in m.headers.items()])
            for i, m in enumerate(messages)
        ]  # fmt: skip

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout=timeout)

    def close(self) -> None:
        self._producer.close(timeout=5)
