"""Dead letters that cannot fail.

A letter names the reason, the consumer group that gave up (three groups dead-lettering one message
give three letters told apart by it) and the original message: whole when the letter fits the size
limit, else a digest, its size, a pointer (topic, partition, offset) and the first 16 KiB. Issue 15: an
800 KB binary message grew past the producer's 1 MiB limit when wrapped, its letter was refused, and the
consumer re-read it ~570 times in 47 minutes while every event behind it waited. A message whose letter
the broker still refuses is skipped, with an error log and `tandem_dead_letters_failed_total` to alert on.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import InvalidRecordError, MessageSizeTooLargeError, RecordListTooLargeError
from prometheus_client import Counter

from shared.bus.producer import RawPublisher
from shared.settings import MAX_MESSAGE_BYTES
from shared.topics import dlq

log = logging.getLogger(__name__)

DEAD_LETTERS = Counter(
    "tandem_dead_letters_total", "Messages dead-lettered, by reason", ["service", "group", "topic", "reason"]
)
DEAD_LETTERS_FAILED = Counter(
    "tandem_dead_letters_failed_total",
    "Poison messages skipped because not even their dead letter could be stored (alert on any)",
    ["service", "group", "topic"],
)
# What the broker (or the producer, before sending) answers to a record over the size limit.
TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError, InvalidRecordError)
EXCERPT_BYTES = 16 * 1024
# Room within the limit for the letter's key, headers and record framing (the value is cut to the rest).
FRAMING_BYTES = 8 * 1024
KEY_CHARS = 1000


@dataclass(frozen=True)
class DeadLetter:
    """Why a message could not be applied; `to_bytes` makes the letter that goes to `<topic>.dlq`."""

    reason: str
    detail: str

    def to_bytes(
        self, record: ConsumerRecord, group: str, limit: int = MAX_MESSAGE_BYTES, whole: bool = True
    ) -> bytes:
        """The letter, never over `limit - FRAMING_BYTES`: the original whole if that fits (and `whole`),
        else its digest, size and pointer with an excerpt (or, `whole=False`, without one)."""
        value: bytes = record.value or b""
        doc: dict[str, Any] = {
            "reason": self.reason,
            "detail": self.detail[:2000],
            "consumer_group": group,
            "original_topic": record.topic,
            "original_partition": record.partition,
            "original_offset": record.offset,
            "original_key": _key(record)[:KEY_CHARS] if record.key else None,
            "original_size": len(value),
            "original_sha256": hashlib.sha256(value).hexdigest(),
            "original_truncated": False,
            "original_value": _readable(value),
            "failed_at": datetime.now(UTC).isoformat(),
        }
        letter = orjson.dumps(doc)
        if whole and len(letter) <= limit - FRAMING_BYTES:
            return letter
        # The pointer and digest find and verify the original while the topic retains it.
        doc |= {"original_truncated": True, "original_value": None}
        excerpt = orjson.dumps({**doc, "original_excerpt": _readable(value[:EXCERPT_BYTES], cut=True)})
        return excerpt if whole and len(excerpt) <= limit - FRAMING_BYTES else orjson.dumps(doc)


def _readable(value: bytes, cut: bool = False) -> object:
    """Text as text, anything else as base64; of a `cut` text, a multi-byte character cut at the end is
    dropped."""
    try:
        return value.decode()
    except UnicodeDecodeError as exc:
        if cut and exc.start >= len(value) - 3 and exc.reason == "unexpected end of data":
            return value[: exc.start].decode()
        return {"base64": base64.b64encode(value).decode()}


def _key(record: ConsumerRecord) -> str:
    return record.key.decode(errors="replace") if record.key else ""


class DeadLetterSink:
    """Sends letters for one consumer group and decides when a message is skipped instead."""

    def __init__(
        self, publisher: RawPublisher, service: str, group: str, limit: int = MAX_MESSAGE_BYTES, attempts: int = 5
    ) -> None:  # fmt: skip
        self.publisher, self.service, self.group = publisher, service, group
        self.limit, self.attempts = limit, attempts
        # Failed sends per message (topic, partition, offset), across the loop's re-reads of it.
        self._failures: dict[tuple[str, int, int], int] = {}

    def send(self, record: ConsumerRecord, letter: DeadLetter) -> str:
        """Store the letter and return "dead_letter", or "skipped" when it cannot be stored. Raises (so the
        loop re-reads from the committed offset) when the broker failed for another reason, until that
        has happened `attempts` times for this message."""
        too_large: Exception | None = None
        for whole in (True, False):
            try:
                self._store(record, letter, letter.to_bytes(record, self.group, self.limit, whole))
            except TOO_LARGE as exc:
                too_large = exc  # then once more, with the pointer and digest only
                continue
            except Exception as exc:
                return self._not_stored(record, letter, exc)
            self._failures.pop(_where(record), None)
            DEAD_LETTERS.labels(self.service, self.group, record.topic, letter.reason).inc()
            log.error("event dead-lettered", extra={"fields": {**_fields(record), "reason": letter.reason,
                                                               "group": self.group}})  # fmt: skip
            return "dead_letter"
        return self._skip(record, letter, too_large)

    def _store(self, record: ConsumerRecord, letter: DeadLetter, value: bytes) -> None:
        key = _key(record)
        if len(key) > KEY_CHARS:  # the same partition for the same key, without a huge key
            key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        headers = {"dlq_reason": letter.reason, "original_topic": record.topic, "consumer_group": self.group,
                   "original_partition": str(record.partition), "original_offset": str(record.offset)}  # fmt: skip
        future = self.publisher.send(dlq(record.topic), key, value, headers)
        self.publisher.flush(timeout=30)  # without waiting for the producer's linger
        future.get(timeout=30)  # the offset may only move on once the dead letter is stored

    def _not_stored(self, record: ConsumerRecord, letter: DeadLetter, exc: Exception) -> str:
        where = _where(record)
        self._failures[where] = self._failures.get(where, 0) + 1
        if self._failures[where] < self.attempts:
            raise exc
        return self._skip(record, letter, exc)

    def _skip(self, record: ConsumerRecord, letter: DeadLetter, exc: Exception | None) -> str:
        self._failures.pop(_where(record), None)
        DEAD_LETTERS_FAILED.labels(self.service, self.group, record.topic).inc()
        log.error(
            "ALERT poison message skipped: its dead letter could not be stored",
            extra={"fields": {**_fields(record), "reason": letter.reason, "group": self.group, "alert": True,
                              "size": len(record.value or b""), "error": f"{type(exc).__name__}: {exc}"}},
        )  # fmt: skip
        return "skipped"


def _where(record: ConsumerRecord) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


def _fields(record: ConsumerRecord) -> dict[str, object]:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}
