"""The fraud consumer's batch path: a poll's CreatorUpserted events scored in one transaction and
their scores published before it commits; redelivery a no-op, invalid payloads dead-lettered while the
rest are scored, a broker refusal sending the poll through the outbox instead."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from sqlmodel import select

from services.fraud.consumers import batch_handlers, handlers
from services.fraud.models import FraudScore
from shared import topics
from shared.bus.consumer import EventDispatcher
from shared.bus.outbox import Message, envelope_headers
from shared.bus.tables import OutboxMessage
from shared.events import CreatorUpserted, Envelope, FraudScored, parse_envelope, unwrap, wrap
from shared.runtime import Runtime
from tests.busutil import SendsOneByOne, creator_event
from tests.fraud.conftest import fraud_runtime


class Acked:
    """A send the broker already acknowledged."""

    def get(self, timeout: float | None = None) -> None:
        return None


class Refused:
    """A send the broker refused."""

    def get(self, timeout: float | None = None) -> None:
        raise KafkaError("not enough replicas")


class FakePublisher(SendsOneByOne):
    """Records what would go to the broker (scores, dead letters); can refuse a topic."""

    def __init__(self, refuse: str | None = None) -> None:
        self.sent: list[tuple[str, bytes]] = []
        self.messages: list[Message] = []
        self.refuse = refuse

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> Any:
        if topic == self.refuse:
            return Refused()
        self.sent.append((topic, value))
        self.messages.append(Message(topic, key, value, dict(headers)))
        return Acked()

    def scored(self) -> list[Envelope]:
        return [parse_envelope(v) for t, v in self.sent if t == topics.FRAUD_SCORES]

    def flush(self, timeout: float | None = None) -> None:
        return None


def _record(offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(
        topics.CATALOG_CREATORS,
        0,
        None,
        offset,
        0,
        0,
        b"k",
        value,
        [("producer", b"discovery")],
        None,
        1,
        len(value),
        0,
    )


def _records(n: int) -> list[ConsumerRecord]:
    envelopes = [
        wrap(creator_event(i), producer="discovery", correlation_id=f"corr-{i}", org_id="o") for i in range(n)
    ]
    return [_record(i, e.to_bytes()) for i, e in enumerate(envelopes)]


def _dispatcher(runtime: Runtime, publisher: FakePublisher) -> EventDispatcher:
    return EventDispatcher(
        runtime.db,
        handlers(runtime),
        publisher,
        "fraud",
        retries=1,
        backoff_s=0,
        batch_handlers=batch_handlers(runtime),
    )


def test_batch_scores_every_creator_once_and_keeps_correlation(runtime: Runtime) -> None:
    publisher = FakePublisher()
    dispatcher = _dispatcher(runtime, publisher)
    records = _records(50)
    assert {o for _, o in dispatcher.apply_many(records)} == {"applied"}
    assert {o for _, o in dispatcher.apply_many(records)} == {"duplicate"}
    with runtime.db.transaction() as s:
        assert len(list(s.exec(select(FraudScore)))) == 50
        assert not [m for m in s.exec(select(OutboxMessage)) if m.topic == topics.FRAUD_SCORES]
    scored = publisher.scored()
    assert len(scored) == 50
    assert {e.correlation_id for e in scored} == {f"corr-{i}" for i in range(50)}
    assert all(
        0 <= e.payload["risk"] <= 1 and e.payload["level"] in ("low", "medium", "high") for e in scored
    )


def test_batch_dead_letters_invalid_payload_and_scores_the_rest(runtime: Runtime) -> None:
    publisher = FakePublisher()
    records = _records(3)
    bad = orjson.loads(records[1].value)
    bad["payload"]["accounts"][0]["followers"] = -1
    records[1] = _record(1, orjson.dumps(bad))
    outcomes = [o for _, o in _dispatcher(runtime, publisher).apply_many(records)]
    assert sorted(outcomes) == ["applied", "applied", "dead_letter"]
    [letter] = [v for t, v in publisher.sent if t == topics.dlq(topics.CATALOG_CREATORS)]
    assert orjson.loads(letter)["reason"] == "invalid_payload"
    with runtime.db.transaction() as s:
        assert {r.creator_id for r in s.exec(select(FraudScore))} == {"cr-0", "cr-2"}
    assert {e.key for e in publisher.scored()} == {"cr-0", "cr-2"}


def test_batch_updates_stored_rows_and_last_update_wins(runtime: Runtime) -> None:
    publisher = FakePublisher()
    dispatcher = _dispatcher(runtime, publisher)
    first = wrap(creator_event(1, followers=20_000), producer="discovery", correlation_id="a", org_id="o")
    dispatcher.apply_many([_record(0, first.to_bytes())])
    again = [
        wrap(creator_event(1, followers=f), producer="discovery", correlation_id="b", org_id="o")
        for f in (900, 5_000_000)
    ]
    dispatcher.apply_many([_record(1, again[0].to_bytes()), _record(2, again[1].to_bytes())])
    with runtime.db.transaction() as s:
        [row] = list(s.exec(select(FraudScore)))
    scored = publisher.scored()
    assert row.risk == scored[-1].payload["risk"]
    assert len(scored) == 3


def test_batch_published_scores_are_valid_fraud_scored_events_matching_the_stored_rows(
    runtime: Runtime,
) -> None:
    """The batch path serialises FraudScored itself: it must read back as the contract says."""
    records = _records(5)
    sources = {e.key: unwrap(e) for e in (parse_envelope(r.value) for r in records)}
    publisher = FakePublisher()
    _dispatcher(runtime, publisher).apply_many(records)
    with runtime.db.transaction() as s:
        stored = {r.creator_id: r for r in s.exec(select(FraudScore))}
    messages = [m for m in publisher.messages if m.topic == topics.FRAUD_SCORES]
    assert len(messages) == 5
    for m in messages:
        env = parse_envelope(m.value)
        event = unwrap(env)
        assert isinstance(event, FraudScored)
        assert m.headers == envelope_headers(env) and m.key == env.key == event.creator_id
        row = stored[event.creator_id]
        assert (event.risk, event.level, event.model_version) == (row.risk, row.level, row.model_version)
        assert [r.model_dump(mode="json") for r in event.reasons] == row.reasons
        source = sources[event.creator_id]
        assert isinstance(source, CreatorUpserted) and event.source_updated_at == source.updated_at


def test_a_refused_publish_rolls_the_batch_back_and_the_outbox_takes_the_scores(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Nothing stored without its score reaching the broker or the outbox; the outbox carries the
    same event ids a direct publish would have used, so a consumer that saw both dedupes."""
    records = _records(4)
    outcomes = [
        o for _, o in _dispatcher(runtime, FakePublisher(refuse=topics.FRAUD_SCORES)).apply_many(records)
    ]
    assert outcomes == ["applied"] * 4
    with runtime.db.transaction() as s:
        assert len(list(s.exec(select(FraudScore)))) == 4
        staged = [
            parse_envelope(m.value) for m in s.exec(select(OutboxMessage)) if m.topic == topics.FRAUD_SCORES
        ]
    assert {e.key for e in staged} == {f"cr-{i}" for i in range(4)}
    direct = FakePublisher()
    _dispatcher(fraud_runtime(tmp_path / "other"), direct).apply_many(records)
    assert {e.event_id for e in direct.scored()} == {e.event_id for e in staged}


def test_a_redelivered_event_is_scored_again_under_the_same_event_id(
    runtime: Runtime, tmp_path: Path
) -> None:
    """A crash after publishing but before the commit re-delivers the poll; the re-published score
    must carry the same id as the first, and a different source event a different one."""
    records = _records(3)
    first, second = FakePublisher(), FakePublisher()
    _dispatcher(runtime, first).apply_many(records)
    _dispatcher(fraud_runtime(tmp_path / "other"), second).apply_many(records)
    assert [e.event_id for e in first.scored()] == [e.event_id for e in second.scored()]
    assert len({e.event_id for e in first.scored()}) == 3


def test_records_carrying_an_event_type_header_take_the_batch_path(runtime: Runtime) -> None:
    """Records from the outbox name their type in a header; a record whose header names a type without
    a batch handler goes one by one, and its score through the outbox."""
    records = _records(2)
    headers = [[("event_type", b"creator.upserted"), ("producer", b"discovery")],
               [("event_type", b"campaign.result_reported"), ("producer", b"discovery")]]  # fmt: skip
    records = [r._replace(headers=h) for r, h in zip(records, headers, strict=True)]
    publisher = FakePublisher()
    outcomes = [o for _, o in _dispatcher(runtime, publisher).apply_many(records)]
    assert outcomes == ["applied", "applied"]
    assert [e.key for e in publisher.scored()] == ["cr-0"]
    with runtime.db.transaction() as s:
        assert [m.key for m in s.exec(select(OutboxMessage)) if m.topic == topics.FRAUD_SCORES] == ["cr-1"]
