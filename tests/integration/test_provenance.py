"""On the real broker: an event whose producer may not publish to its topic is dead-lettered with the
reason and never applied, however plausible its organisation; the owner's events are applied."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer
from sqlmodel import Session, select

from services.fraud.models import FraudScore
from shared import topics
from shared.broker import LocalBroker
from shared.bus.consumer import ConsumerLoop, EventDispatcher
from shared.bus.producer import BusProducer
from shared.db import Database, migrate
from shared.events import CreatorUpserted, Envelope, Event, wrap
from shared.settings import ServiceSettings
from tests.busutil import creator_event, read_topic

pytestmark = pytest.mark.integration
TOPIC = topics.CATALOG_CREATORS


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    b = LocalBroker(log_path=tmp_path_factory.mktemp("provenance-broker") / "broker.log").start()
    yield b
    b.stop()


@pytest.fixture
def db(postgres_database: Callable[[str], str]) -> Database:
    url = postgres_database("provenance")
    migrate(url, Path("services/fraud/migrations"))
    return Database(url)


def _store(session: Session, event: Event, envelope: Envelope) -> None:
    assert isinstance(event, CreatorUpserted)
    session.add(FraudScore(org_id=envelope.org_id, creator_id=event.creator_id, risk=0.1, level="low",
                           model_name="t", model_version="1", scored_at=datetime.now(UTC)))  # fmt: skip


def _send(bootstrap: str, records: list[tuple[int, str, str | None]]) -> None:
    """(creator number, envelope producer, producer header or None) as raw records, like an intruder
    with produce rights would write them."""
    producer = KafkaProducer(bootstrap_servers=[bootstrap], acks="all")
    for n, claimed, header in records:
        env = wrap(creator_event(n), producer=claimed, correlation_id=f"c-{n}", org_id="victim-org")
        headers = [("producer", header.encode())] if header is not None else []
        producer.send(TOPIC, key=env.key.encode(), value=env.to_bytes(), headers=headers)
    producer.flush()
    producer.close()


def _scores(db: Database) -> list[str]:
    with db.transaction() as s:
        return sorted(s.exec(select(FraudScore.creator_id).where(FraudScore.org_id == "victim-org")))


def test_forged_producers_are_dead_lettered_and_the_owner_applied(db: Database, broker: LocalBroker) -> None:
    _send(broker.bootstrap, [
        (1, "mallory", "mallory"),      # unknown producer, made-up organisation
        (2, "fraud", "fraud"),          # a real service, but not this topic's owner
        (3, "discovery", None),         # no producer header at all
        (4, "discovery", "fraud"),      # header and envelope disagree
        (5, "discovery", "discovery"),  # the owner
    ])  # fmt: skip
    settings = ServiceSettings(service_name="provenance", kafka_bootstrap=broker.bootstrap,
                               consumer_group="provenance-test")  # fmt: skip
    producer = BusProducer(broker.bootstrap, "provenance-test")
    loop = ConsumerLoop(settings, [TOPIC], EventDispatcher(db, {CreatorUpserted.event_type: _store}, producer,
                                                           "fraud", 1, 0.01))  # fmt: skip
    loop.start()
    try:
        letters = read_topic(broker.bootstrap, topics.dlq(TOPIC), 4, timeout_s=30)
        deadline = time.monotonic() + 20
        while not _scores(db) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        loop.stop()
        producer.close()
    assert _scores(db) == ["cr-5"]
    bodies = [orjson.loads(r.value) for r in letters]
    assert [b["reason"] for b in bodies] == ["unauthorized_producer"] * 4
    details = " | ".join(b["detail"] for b in bodies)
    assert "'mallory' may not publish to catalog.creators.v1" in details
    assert "'fraud' may not publish" in details
    assert "no producer header" in details
    assert "disagrees" in details
