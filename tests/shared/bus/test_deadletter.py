"""Dead letters fit the size limit, name the consumer group, and a refused one is skipped with an alert."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson
import pytest
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaTimeoutError, MessageSizeTooLargeError
from prometheus_client import REGISTRY

from shared.bus.deadletter import FRAMING_BYTES, DeadLetter, DeadLetterSink
from shared.topics import CATALOG_CREATORS, dlq
from tests.busutil import FakeFuture, SendsOneByOne

LIMIT = 64 * 1024


@dataclass
class Broker(SendsOneByOne):
    """Refuses values over `accepts` bytes as the broker would, or fails every send with `error`."""

    accepts: int = LIMIT
    error: Exception | None = None
    stored: list[tuple[str, str, bytes, dict[str, str]]] = field(default_factory=list)

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> FakeFuture:
        if self.error is not None:
            return FakeFuture(self.error)
        if len(value) > self.accepts:
            return FakeFuture(MessageSizeTooLargeError(f"{len(value)} bytes"))
        self.stored.append((topic, key, value, dict(headers)))
        return FakeFuture(None)

    def flush(self, timeout: float | None = None) -> None:
        pass


def _record(value: bytes, offset: int = 7, key: bytes = b"cr-1") -> ConsumerRecord:
    return ConsumerRecord(
        topic=CATALOG_CREATORS, partition=1, leader_epoch=-1, offset=offset, timestamp=0, timestamp_type=0,
        key=key, value=value, headers=[], checksum=None, serialized_key_size=len(key),
        serialized_value_size=len(value), serialized_header_size=-1,
    )  # fmt: skip


def _failed(group: str) -> float:
    labels = {"service": "fraud", "group": group, "topic": CATALOG_CREATORS}
    return REGISTRY.get_sample_value("tandem_dead_letters_failed_total", labels) or 0.0


def test_a_small_letter_keeps_the_original_whole_and_names_the_group() -> None:
    broker = Broker()
    sink = DeadLetterSink(broker, "fraud", "tandem-fraud", LIMIT)  # type: ignore[arg-type]
    assert sink.send(_record(b"not json"), DeadLetter("invalid_envelope", "bad")) == "dead_letter"
    [(topic, key, value, headers)] = broker.stored
    letter = orjson.loads(value)
    assert (topic, key) == (dlq(CATALOG_CREATORS), "cr-1")
    assert headers["consumer_group"] == letter["consumer_group"] == "tandem-fraud"
    assert (headers["original_partition"], headers["original_offset"]) == ("1", "7")
    assert letter["original_value"] == "not json" and letter["original_truncated"] is False
    assert letter["original_sha256"] == hashlib.sha256(b"not json").hexdigest()


def test_a_binary_message_near_the_limit_gets_a_letter_within_it_with_digest_and_excerpt() -> None:
    """Issue 15's case: base64 made an 800 KB binary message's letter larger than the limit."""
    raw = os.urandom(int(LIMIT * 0.9))
    broker = Broker()
    sink = DeadLetterSink(broker, "fraud", "tandem-fraud", LIMIT)  # type: ignore[arg-type]
    assert sink.send(_record(raw), DeadLetter("invalid_envelope", "not JSON")) == "dead_letter"
    value = broker.stored[0][2]
    assert len(value) <= LIMIT - FRAMING_BYTES
    letter = orjson.loads(value)
    assert letter["original_truncated"] is True and letter["original_value"] is None
    assert (letter["original_size"], letter["original_sha256"]) == (len(raw), hashlib.sha256(raw).hexdigest())
    assert raw.startswith(base64.b64decode(letter["original_excerpt"]["base64"]))
    assert (letter["original_topic"], letter["original_partition"], letter["original_offset"]) == (
        CATALOG_CREATORS, 1, 7,
    )  # fmt: skip


def test_a_text_excerpt_cut_inside_a_character_stays_text() -> None:
    raw = ("é" * LIMIT).encode()
    broker = Broker()
    DeadLetterSink(broker, "fraud", "g", LIMIT).send(_record(raw), DeadLetter("too_large", "big"))  # type: ignore[arg-type]
    assert set(orjson.loads(broker.stored[0][2])["original_excerpt"]) == {"é"}


def test_a_letter_the_broker_refuses_goes_again_without_the_excerpt() -> None:
    broker = Broker(accepts=2000)
    sink = DeadLetterSink(broker, "fraud", "g", LIMIT)  # type: ignore[arg-type]
    assert sink.send(_record(b"x" * 5000), DeadLetter("invalid_envelope", "bad")) == "dead_letter"
    letter = orjson.loads(broker.stored[0][2])
    assert letter["original_truncated"] is True and "original_excerpt" not in letter


def test_a_letter_refused_even_without_the_original_is_skipped_with_an_alert(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = Broker(accepts=10)
    sink = DeadLetterSink(broker, "fraud", "tandem-skip", LIMIT)  # type: ignore[arg-type]
    before = _failed("tandem-skip")
    with caplog.at_level("ERROR"):
        assert sink.send(_record(b"poison"), DeadLetter("invalid_envelope", "bad")) == "skipped"
    assert broker.stored == []
    assert _failed("tandem-skip") == before + 1
    [alert] = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert alert.levelname == "ERROR" and alert.fields["alert"] is True  # type: ignore[attr-defined]
    assert alert.fields["offset"] == 7  # type: ignore[attr-defined]


def test_a_broker_failure_is_re_read_until_the_attempts_run_out_then_skipped() -> None:
    broker = Broker(error=KafkaTimeoutError("no broker"))
    sink = DeadLetterSink(broker, "fraud", "tandem-attempts", LIMIT, attempts=3)  # type: ignore[arg-type]
    before = _failed("tandem-attempts")
    for _ in range(2):  # the loop re-reads the message from the committed offset each time
        with pytest.raises(KafkaTimeoutError):
            sink.send(_record(b"poison"), DeadLetter("invalid_envelope", "bad"))
    assert sink.send(_record(b"poison"), DeadLetter("invalid_envelope", "bad")) == "skipped"
    assert _failed("tandem-attempts") == before + 1


def test_a_huge_key_is_replaced_by_its_digest() -> None:
    key = b"k" * 5000
    broker = Broker()
    DeadLetterSink(broker, "fraud", "g", LIMIT).send(_record(b"x", key=key), DeadLetter("r", "d"))  # type: ignore[arg-type]
    assert broker.stored[0][1] == "sha256:" + hashlib.sha256(key).hexdigest()


def test_three_groups_dead_lettering_one_message_give_three_letters_told_apart() -> None:
    broker = Broker()
    for group in ("tandem-discovery", "tandem-fraud", "tandem-review"):
        DeadLetterSink(broker, group.removeprefix("tandem-"), group, LIMIT).send(
            _record(b"bad"), DeadLetter("r", "d")
        )  # type: ignore[arg-type]
    letters = [
        (headers["consumer_group"], orjson.loads(value)["consumer_group"])
        for _, _, value, headers in broker.stored
    ]
    assert letters == [("tandem-discovery",) * 2, ("tandem-fraud",) * 2, ("tandem-review",) * 2]
