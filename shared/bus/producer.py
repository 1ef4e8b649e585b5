"""A thin kafka-python producer: acks=all, keyed by aggregate id, headers carry tracing metadata."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.errors import IllegalStateError, KafkaError, OutOfOrderSequenceNumberError, UnknownProducerIdError
from kafka.producer.future import FutureRecordMetadata

from shared.bus.partitioning import default_partitions
from shared.settings import MAX_MESSAGE_BYTES
from shared.topics import MODELS_PROMOTED

log = logging.getLogger(__name__)
# Errors after which this KafkaProducer will not publish again: its producer id is unknown to the broker
# (a broker that restarted without its data, tansu's default) or its sequence state is broken. A new
# KafkaProducer asks for a new producer id; the old one would fail or block every later send.
FATAL_ERRORS = (UnknownProducerIdError, OutOfOrderSequenceNumberError, IllegalStateError)


def is_fatal(exc: BaseException) -> bool:
    """True if a publish failed in a way only a new KafkaProducer gets past (retrying cannot).

    A bare KafkaError is what kafka-python raises when its producer-id handshake fails ("Unexpected error
    in InitProducerIdResponse": tansu after a restart); errors about a record (too large, not authorised)
    are subclasses, and a new producer would not help them.
    """
    return isinstance(exc, FATAL_ERRORS) or type(exc) is KafkaError


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
        self._options: dict[str, Any] = {
            **dict(security or {}),  # authentication (shared.bus.security.client_options)
            "bootstrap_servers": bootstrap.split(","),
            "client_id": client_id,
            # How long a send waits for metadata while the broker is away before it raises: a consumer's
            # batch then goes through the outbox instead (kafka-python's default is 60 s).
            "max_block_ms": max_block_ms,
        }
        self.probe_topic, self.max_request_size = probe_topic, max_request_size
        self.generation = 1  # how many KafkaProducers this object has had (rebuilds + 1)
        self._lock = threading.Lock()
        self._producer = self._connect()
        self._flush_wanted, self._closed = threading.Event(), False
        threading.Thread(target=self._flush_when_asked, name=f"{client_id}-flush", daemon=True).start()

    def _connect(self) -> KafkaProducer:
        producer = KafkaProducer(
            **self._options,
            acks="all",
            # The relay sends a batch of rows and then flushes, and the dead-letter path flushes too,
            # so a long linger costs no latency; it keeps batches open while a relay batch is appended
            # (a short one made the sender drain and re-create batches, waking its thread per record).
            linger_ms=100,
            # As large as one message may be (its compressed batch fits the broker's limit: lz4 adds at
            # most ~0.4%, inside BROKER_HEADROOM_BYTES). A fraud poll's 4,000 FraudScored over 6
            # partitions overflowed 512 KiB batches, and once a batch is full KafkaProducer wakes its
            # sender thread on every further record (a socket write each); with 1 MiB the send path took
            # 12% of the stream's samples instead of 17%, the sender thread 5% instead of 11% (py-spy).
            batch_size=MAX_MESSAGE_BYTES,
            # lz4 roughly triples throughput on this broker (../shared/notes/broker.md).
            compression_type="lz4",
            allow_auto_create_topics=False,
            retries=5,
            request_timeout_ms=15000,
            # Refused here, before sending, rather than by the broker (shared.settings.MAX_MESSAGE_BYTES).
            max_request_size=self.max_request_size,
        )
        # Metadata for a known topic proves the broker answers and the topics exist; after that,
        # readiness follows shared.bus.health.BrokerWatch (a round trip now, not a start-up flag).
        try:
            known = producer.partitions_for(self.probe_topic)
        except Exception:
            producer.close(timeout=1)  # the broker is away: no half-made producer left behind
            raise
        if not known:
            producer.close(timeout=1)
            raise RuntimeError(
                f"topic {self.probe_topic} not found: create topics first (tandem topics create)"
            )
        return producer

    def rebuild(self) -> None:
        """Replace the KafkaProducer with a new one (a new producer id, fresh metadata and connections).

        The new one is connected first, so if the broker is still away this raises and the old one stays;
        sends already handed to the old one fail, and their callers retry (the outbox) or re-deliver.
        """
        fresh = self._connect()
        with self._lock:
            old, self._producer = self._producer, fresh
            self.generation += 1
        log.warning("kafka producer rebuilt", extra={"fields": {"generation": self.generation}})
        old.close(timeout=1)

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> FutureRecordMetadata:
        return self._producer.send(
            topic,
            key=key.encode(),
            value=value,
            headers=[(k, v.encode()) for k, v in headers.items()],
        )

    def send_many(self, messages: Sequence[Sendable]) -> list[FutureRecordMetadata]:
        """Send a batch, its keys' partitions computed together (see shared.bus.partitioning), and start
        sending it at once: a batch is complete, so nothing is gained by lingering, and its acks can come
        back while the caller does other work (a consumer stores the poll) before it waits for them."""
        futures = self._append_many(messages)
        self._flush_wanted.set()
        return futures

    def _flush_when_asked(self) -> None:
        """Flushes on behalf of `send_many`. KafkaProducer has no "send what is buffered now" without
        waiting for the acks (`flush` does both), so this thread does the waiting."""
        while True:
            self._flush_wanted.wait()
            self._flush_wanted.clear()
            if self._closed:
                return
            try:
                self._producer.flush()
            except Exception:  # the sender's own flush and futures report what failed
                log.debug("background flush failed", exc_info=True)

    def _append_many(self, messages: Sequence[Sendable]) -> list[FutureRecordMetadata]:
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
        self._closed = True
        self._flush_wanted.set()
        self._producer.close(timeout=5)
