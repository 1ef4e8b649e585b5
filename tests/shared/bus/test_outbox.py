"""Transactional outbox: staged with the change, published after commit, marked only once acknowledged."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka.errors import KafkaError, KafkaTimeoutError, OutOfOrderSequenceNumberError, UnknownProducerIdError
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from shared.bus import outbox as outbox_module
from shared.bus.outbox import (
    Backoff,
    Message,
    Outbox,
    OutboxRelay,
    envelope_headers,
    pending_count,
    publish,
    publish_pending,
)
from shared.bus.tables import OutboxMessage
from shared.db import Database, migrate
from shared.events import ModelPromoted, parse_envelope, unwrap
from shared.observability import correlation
from shared.settings import MAX_MESSAGE_BYTES
from shared.topics import MODELS_PROMOTED, dlq
from tests.busutil import SendsOneByOne

REPO = Path(__file__).resolve().parents[3]


@dataclass
class Sent:
    topic: str
    key: str
    value: bytes
    headers: dict[str, str]


class FakeFuture:
    def __init__(self, owner: FakePublisher, index: int) -> None:
        self.owner, self.index = owner, index

    def get(self, timeout: float | None = None) -> str:
        self.owner.log.append(f"get:{self.index}")
        if self.owner.on_get is not None:
            self.owner.on_get(self.index)
        if self.index in self.owner.fail_indexes:
            raise TimeoutError(f"no ack for message {self.index}")
        return "acked"


@dataclass
class FakePublisher(SendsOneByOne):
    """Records sends, flushes and acknowledgement checks in order; chosen sends fail on `get`."""

    fail_indexes: set[int] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    on_get: Callable[[int], None] | None = None

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> FakeFuture:
        self.sent.append(Sent(topic, key, value, dict(headers)))
        self.log.append(f"send:{len(self.sent) - 1}")
        return FakeFuture(self, len(self.sent) - 1)

    def flush(self, timeout: float | None = None) -> None:
        self.log.append("flush")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    migrate(url, REPO / "services" / "fraud" / "migrations")
    database = Database(url)
    yield database
    database.close()


def _event(n: int) -> ModelPromoted:
    return ModelPromoted(model_name=f"model-{n}", model_version=str(n), previous_version=None,
                         promoted_at=datetime.now(UTC))  # fmt: skip


def _stage(db: Database, outbox: Outbox, count: int, org_id: str = "acme") -> None:
    with db.transaction() as session:
        for n in range(count):
            outbox.stage(session, _event(n), org_id=org_id)


def _rows(db: Database) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def test_stage_writes_row_with_envelope_and_headers(db: Database) -> None:
    outbox = Outbox("fraud")
    with correlation("cid-5"), db.transaction() as session:
        env = outbox.stage(session, _event(1), org_id="acme")
    [row] = _rows(db)
    assert (row.topic, row.key, row.event_id) == (MODELS_PROMOTED, "model-1", str(env.event_id))
    assert row.published_at is None
    assert row.headers == envelope_headers(env)
    assert row.headers["correlation_id"] == "cid-5"
    back = parse_envelope(row.value)
    assert (back.producer, back.org_id, back.correlation_id) == ("fraud", "acme", "cid-5")
    event = unwrap(back)
    assert isinstance(event, ModelPromoted)
    assert (event.model_name, event.model_version) == ("model-1", "1")
    assert outbox.wakeup.is_set()


def test_stage_without_correlation_creates_one(db: Database) -> None:
    with db.transaction() as session:
        env = Outbox("fraud").stage(session, _event(1), org_id="acme")
    assert len(env.correlation_id) == 32


def test_stage_in_rolled_back_transaction_leaves_no_row(db: Database) -> None:
    outbox = Outbox("fraud")
    with pytest.raises(RuntimeError), db.transaction() as session:
        outbox.stage(session, _event(1), org_id="acme")
        raise RuntimeError("the change failed")
    assert _rows(db) == []
    assert pending_count(db) == 0


def test_publish_pending_sends_in_order_and_marks_rows(db: Database) -> None:
    _stage(db, Outbox("fraud"), 3)
    publisher = FakePublisher()
    assert publish_pending(db, publisher, "fraud") == 3  # type: ignore[arg-type]
    assert [s.key for s in publisher.sent] == ["model-0", "model-1", "model-2"]
    assert all(s.topic == MODELS_PROMOTED for s in publisher.sent)
    rows = _rows(db)
    assert [s.value for s in publisher.sent] == [r.value for r in rows]
    assert [s.headers for s in publisher.sent] == [r.headers for r in rows]
    assert all(r.published_at is not None for r in rows)
    assert pending_count(db) == 0


def test_publish_pending_checks_acks_after_flush(db: Database) -> None:
    _stage(db, Outbox("fraud"), 2)
    publisher = FakePublisher()
    publish_pending(db, publisher, "fraud")  # type: ignore[arg-type]
    assert publisher.log == ["send:0", "send:1", "flush", "get:0", "get:1"]


def test_publish_pending_marks_nothing_before_acks_are_checked(db: Database) -> None:
    _stage(db, Outbox("fraud"), 3)
    pending_at_get: list[int] = []
    publisher = FakePublisher(on_get=lambda _i: pending_at_get.append(pending_count(db)))
    publish_pending(db, publisher, "fraud")  # type: ignore[arg-type]
    assert pending_at_get == [3, 3, 3]
    assert pending_count(db) == 0


def test_publish_pending_with_failing_future_leaves_rows_unpublished(db: Database) -> None:
    _stage(db, Outbox("fraud"), 3)
    failing = FakePublisher(fail_indexes={1})
    with pytest.raises(TimeoutError, match="message 1"):
        publish_pending(db, failing, "fraud")  # type: ignore[arg-type]
    assert len(failing.sent) == 3
    assert pending_count(db) == 3
    assert all(r.published_at is None for r in _rows(db))


def test_publish_pending_after_failure_resends_everything(db: Database) -> None:
    _stage(db, Outbox("fraud"), 2)
    with pytest.raises(TimeoutError):
        publish_pending(db, FakePublisher(fail_indexes={0}), "fraud")  # type: ignore[arg-type]
    retry = FakePublisher()
    assert publish_pending(db, retry, "fraud") == 2  # type: ignore[arg-type]
    assert [s.key for s in retry.sent] == ["model-0", "model-1"]
    assert pending_count(db) == 0


def test_publish_pending_with_nothing_pending_sends_nothing(db: Database) -> None:
    _stage(db, Outbox("fraud"), 1)
    publish_pending(db, FakePublisher(), "fraud")  # type: ignore[arg-type]
    again = FakePublisher()
    assert publish_pending(db, again, "fraud") == 0  # type: ignore[arg-type]
    assert again.sent == []
    assert again.log == []


def test_publish_pending_respects_limit(db: Database) -> None:
    _stage(db, Outbox("fraud"), 5)
    publisher = FakePublisher()
    assert publish_pending(db, publisher, "fraud", limit=2) == 2  # type: ignore[arg-type]
    assert [s.key for s in publisher.sent] == ["model-0", "model-1"]
    assert pending_count(db) == 3


def _wait_for(condition: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until `condition` held; fails after `timeout_s`."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout_s, "condition not met in time"
        time.sleep(0.005)
    return time.monotonic() - start


def test_idle_relay_backs_off_yet_publishes_in_process_rows_at_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Idle, the relay looks less and less often; a row staged in its own process wakes it at once,
    and one staged elsewhere (no wakeup reaches it) is found by the next timed look."""
    publisher, outbox = FakePublisher(), Outbox("fraud")
    looks: list[float] = []
    real = outbox_module.publish_pending

    def counting(*args: Any, **kwargs: Any) -> int:
        looks.append(time.monotonic())
        return real(*args, **kwargs)

    monkeypatch.setattr(outbox_module, "publish_pending", counting)
    relay = OutboxRelay(db, publisher, outbox, "fraud", poll_interval=0.01, max_idle_interval=0.4)
    relay.start()
    try:
        time.sleep(1.5)
        assert len(looks) <= 12  # without the back-off, 0.01 s apart: ~150
        _stage(db, outbox, 1)
        assert _wait_for(lambda: len(publisher.sent) == 1, 1.0) < 0.2
        time.sleep(1.0)  # back at the longest gap
        _stage(db, Outbox("fraud"), 1)  # another process's outbox
        assert _wait_for(lambda: len(publisher.sent) == 2, 2.0) < 0.6
    finally:
        relay.stop()


def test_every_published_message_names_its_producer(db: Database) -> None:
    """Staged rows carry the producer header; a row without one (staged before it existed, or assembled
    by hand) is stamped with the publishing service's name, so consumers never see a nameless event."""
    with db.transaction() as session:
        Outbox("fraud").stage(session, _event(1), org_id="acme")
    publisher = FakePublisher()
    publish(publisher, [Message(MODELS_PROMOTED, "k", b"{}", {"event_id": "e-2"})], "forecast")
    publish_pending(db, publisher, "fraud")
    assert [s.headers["producer"] for s in publisher.sent] == ["forecast", "fraud"]


@dataclass
class BrokenProducer(FakePublisher):
    """Every acknowledgement fails with `error` until `rebuild` (a new producer id) is called."""

    error: Exception = field(default_factory=lambda: UnknownProducerIdError())
    rebuilds: int = 0

    def __post_init__(self) -> None:
        self.on_get = self._maybe_fail

    def _maybe_fail(self, index: int) -> None:
        if self.rebuilds == 0:
            raise self.error

    def rebuild(self) -> None:
        self.rebuilds += 1


@pytest.mark.parametrize(
    ("error", "failures_before_rebuild"),
    [
        (UnknownProducerIdError(), 1),
        (OutOfOrderSequenceNumberError(), 1),
        (KafkaError("Unexpected error in InitProducerIdResponse: [Error -1] UnknownError"), 1),  # tansu
        (KafkaTimeoutError("init"), 3),
    ],
)
def test_relay_rebuilds_a_producer_past_retrying_and_publishes_again(
    db: Database, error: Exception, failures_before_rebuild: int
) -> None:
    """A fatal error gets a new producer at once; a retriable one that keeps failing, after three tries."""
    publisher, outbox = BrokenProducer(error=error), Outbox("fraud")
    _stage(db, outbox, 3)
    relay = OutboxRelay(db, publisher, outbox, "fraud", poll_interval=0.01, recover=publisher.rebuild,
                        backoff=Backoff(base_s=0.01, max_s=0.05))  # fmt: skip
    relay.start()
    try:
        _wait_for(lambda: pending_count(db) == 0, 5.0)
    finally:
        relay.stop()
    assert publisher.rebuilds == 1
    # Each failed round sent the batch of three once; the round after the rebuild sent it again.
    assert len(publisher.sent) == 3 * (failures_before_rebuild + 1)


def test_backoff_doubles_to_its_cap_and_never_rebuilds_for_database_errors() -> None:
    backoff = Backoff(base_s=1, max_s=5, rebuild_after=3)
    db_errors = [backoff.failed(OperationalError("select", {}, Exception("down"))) for _ in range(4)]
    assert db_errors == [(1, False), (2, False), (4, False), (5, False)]
    backoff.succeeded()
    broker = [backoff.failed(KafkaTimeoutError()) for _ in range(4)]
    assert broker == [(1, False), (2, False), (4, True), (5, False)]
    assert backoff.failed(UnknownProducerIdError()) == (5, True)


def test_retry_now_cuts_the_relays_back_off_short(db: Database) -> None:
    """A relay backing off for a minute publishes as soon as it is told the broker is back."""
    publisher, outbox = BrokenProducer(error=KafkaTimeoutError("away")), Outbox("fraud")
    _stage(db, outbox, 1)
    relay = OutboxRelay(
        db, publisher, outbox, "fraud", poll_interval=0.01, backoff=Backoff(base_s=60, max_s=60)
    )
    relay.start()
    try:
        _wait_for(lambda: len(publisher.sent) == 1, 2.0)  # the first try failed: a minute's back-off now
        publisher.rebuilds = 1  # the broker answers again
        relay.retry_now()
        assert _wait_for(lambda: pending_count(db) == 0, 2.0) < 1.0
    finally:
        relay.stop()


def test_an_event_over_the_size_limit_is_dead_lettered_and_holds_nothing_back(db: Database) -> None:
    """Issue 15: the producer refuses an event over the limit on every try; the relay used to retry it
    forever with every later row waiting. It goes to the dead-letter topic (digest, size, excerpt)."""
    outbox = Outbox("fraud")
    _stage(db, outbox, 1)
    with db.transaction() as session:
        big = outbox.stage(session, _event(1), org_id="acme")
        row = session.exec(select(OutboxMessage).where(OutboxMessage.event_id == str(big.event_id))).one()
        row.value = b'{"huge": "' + b"x" * MAX_MESSAGE_BYTES + b'"}'
        session.add(row)
    _stage(db, outbox, 1)
    publisher = FakePublisher()
    assert publish_pending(db, publisher, "fraud") == 3  # type: ignore[arg-type]
    assert [s.topic for s in publisher.sent] == [dlq(MODELS_PROMOTED), MODELS_PROMOTED, MODELS_PROMOTED]
    letter = orjson.loads(publisher.sent[0].value)
    assert letter["reason"] == "too_large" and letter["original_truncated"] is True
    assert letter["original_size"] > MAX_MESSAGE_BYTES and letter["consumer_group"] == "fraud-outbox-relay"
    assert all(len(s.value) < MAX_MESSAGE_BYTES for s in publisher.sent)
    assert pending_count(db) == 0
