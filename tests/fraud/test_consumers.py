"""The fraud consumer's batch path: a poll's CreatorUpserted events scored in one transaction,
redelivery a no-op, invalid payloads dead-lettered while the rest are scored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from kafka.consumer.fetcher import ConsumerRecord
from sqlmodel import select

from services.fraud.consumers import batch_handlers, handlers
from services.fraud.models import FraudScore
from shared import topics
from shared.bus.consumer import EventDispatcher
from shared.bus.outbox import envelope_headers
from shared.bus.tables import OutboxMessage
from shared.events import CreatorUpserted, FraudScored, parse_envelope, unwrap, wrap
from shared.runtime import Runtime
from tests.busutil import creator_event


class Acked:
    """A send the broker already acknowledged."""

    def get(self, timeout: float | None = None) -> None:
        return None


class FakePublisher:
    """Records dead letters instead of sending them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> Any:
        self.sent.append((topic, value))
        return Acked()

    def flush(self, timeout: float | None = None) -> None:
        return None


def _record(offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(
        topics.CATALOG_CREATORS, 0, None, offset, 0, 0, b"k", value, [], None, 1, len(value), 0
    )


def _records(n: int) -> list[ConsumerRecord]:
    envelopes = [
        wrap(creator_event(i), producer="t", correlation_id=f"corr-{i}", org_id="o") for i in range(n)
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
    dispatcher = _dispatcher(runtime, FakePublisher())
    records = _records(50)
    assert {o for _, o in dispatcher.apply_many(records)} == {"applied"}
    assert {o for _, o in dispatcher.apply_many(records)} == {"duplicate"}
    with runtime.db.transaction() as s:
        assert len(list(s.exec(select(FraudScore)))) == 50
        envelopes = [parse_envelope(m.value) for m in s.exec(select(OutboxMessage))]
    scored = [e for e in envelopes if e.type == "fraud.scored"]
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
    assert [t for t, _ in publisher.sent] == [topics.dlq(topics.CATALOG_CREATORS)]
    assert orjson.loads(publisher.sent[0][1])["reason"] == "invalid_payload"
    with runtime.db.transaction() as s:
        assert {r.creator_id for r in s.exec(select(FraudScore))} == {"cr-0", "cr-2"}


def test_batch_updates_stored_rows_and_last_update_wins(runtime: Runtime) -> None:
    dispatcher = _dispatcher(runtime, FakePublisher())
    first = wrap(creator_event(1, followers=20_000), producer="t", correlation_id="a", org_id="o")
    dispatcher.apply_many([_record(0, first.to_bytes())])
    again = [
        wrap(creator_event(1, followers=f), producer="t", correlation_id="b", org_id="o")
        for f in (900, 5_000_000)
    ]
    dispatcher.apply_many([_record(1, again[0].to_bytes()), _record(2, again[1].to_bytes())])
    with runtime.db.transaction() as s:
        [row] = list(s.exec(select(FraudScore)))
        scored = [parse_envelope(m.value) for m in s.exec(select(OutboxMessage))]
    last = [e for e in scored if e.type == "fraud.scored"][-1]
    assert row.risk == last.payload["risk"]
    assert len([e for e in scored if e.type == "fraud.scored"]) == 3


def test_batch_published_scores_are_valid_fraud_scored_events_matching_the_stored_rows(
    runtime: Runtime,
) -> None:
    """The batch path serialises FraudScored itself: it must read back as the contract says."""
    records = _records(5)
    sources = {e.key: unwrap(e) for e in (parse_envelope(r.value) for r in records)}
    _dispatcher(runtime, FakePublisher()).apply_many(records)
    with runtime.db.transaction() as s:
        stored = {r.creator_id: r for r in s.exec(select(FraudScore))}
        messages = [m for m in s.exec(select(OutboxMessage)) if m.topic == topics.FRAUD_SCORES]
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
