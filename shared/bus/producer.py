"""A thin kafka-python producer: acks=all, keyed by aggregate id, headers carry tracing metadata."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from kafka import KafkaProducer
from kafka.producer.future import FutureRecordMetadata

from shared.topics import MODELS_PROMOTED


class RawPublisher(Protocol):
    """What the outbox relay and the dead-letter path need from a producer."""

    def send(
        self, topic: str, key: str, value: bytes, headers: Mapping[str, str]
    ) -> FutureRecordMetadata: ...

    def flush(self, timeout: float | None = None) -> None: ...


class BusProducer:
    """Owns one KafkaProducer for the process."""

    def __init__(self, bootstrap: str, client_id: str, probe_topic: str = MODELS_PROMOTED) -> None:
        self._producer = KafkaProducer(
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
        )
        # kafka-python's bootstrap_connected() stays False once metadata is loaded, so readiness is
        # proven instead: metadata for a known topic means the broker answers and topics exist.
        if not self._producer.partitions_for(probe_topic):
            self._producer.close(timeout=1)
            raise RuntimeError(f"topic {probe_topic} not found: create topics first (tandem topics create)")
        self._ready = True

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> FutureRecordMetadata:
        return self._producer.send(
            topic,
            key=key.encode(),
            value=value,
            headers=[(k, v.encode()) for k, v in headers.items()],
        )

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout=timeout)

    def connected(self) -> bool:
        return self._ready

    def close(self) -> None:
        self._producer.close(timeout=5)
