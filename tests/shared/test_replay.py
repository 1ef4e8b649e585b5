"""POST /v1/admin/replay on discovery and fraud: what is re-published, under which ids, and when refused."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from services.discovery import replay as discovery_replay
from services.fraud import replay as fraud_replay
from services.fraud.models import FraudScore
from shared import topics
from shared.bus.health import BrokerProbe, BrokerWatch
from shared.bus.outbox import publish_pending
from shared.bus.tables import OutboxMessage
from shared.errors import install_error_handlers
from shared.events import CreatorUpserted, FraudScored, parse_envelope, unwrap
from shared.replay import replay_router
from shared.runtime import Runtime
from tandem.synthetic import generate_world
from tests.busutil import SendsOneByOne
from tests.discovery.apputil import discovery_client, discovery_runtime
from tests.fraud.conftest import fraud_runtime

WORLD = generate_world(30, seed=21).payloads()


class Acked:
    def get(self, timeout: float | None = None) -> None:
        return None


@dataclass
class Recorder(SendsOneByOne):
    """A producer that records what it was given and acknowledges everything."""

    sent: list[tuple[str, str, bytes, dict[str, str]]] = field(default_factory=list)

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> Acked:
        self.sent.append((topic, key, value, dict(headers)))
        return Acked()

    def flush(self, timeout: float | None = None) -> None:
        return None

    def event_ids(self) -> list[str]:
        return [headers["event_id"] for _, _, _, headers in self.sent]


def _connected(runtime: Runtime, recorder: Recorder, reachable: bool = True) -> None:
    runtime.producer = recorder  # type: ignore[assignment]
    runtime.broker_watch = BrokerWatch("replaytest", BrokerProbe("127.0.0.1:1", set()))
    runtime.broker_watch.reachable = reachable


def _replay(client: TestClient, org: str = "acme", **scope: Any) -> Any:
    return client.post("/v1/admin/replay", json=scope, headers={"X-Org-Id": org})


@pytest.fixture
def discovery(tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    runtime = discovery_runtime(f"sqlite:///{tmp_path / 'discovery.db'}")
    client = discovery_client(runtime)
    client.app.include_router(replay_router(topics.CATALOG_CREATORS, discovery_replay.catalogue_events))  # type: ignore[attr-defined]
    for org in ("acme", "other"):
        assert client.post(
            "/v1/creators/bulk", json={"creators": WORLD}, headers={"X-Org-Id": org}
        ).is_success
    yield runtime, client
    runtime.db.close()


def test_catalogue_replay_resends_each_creators_last_event_under_its_first_id(
    discovery: tuple[Runtime, TestClient],
) -> None:
    runtime, client = discovery
    first = Recorder()
    while publish_pending(runtime.db, first, "discovery"):
        pass
    original = {h["event_id"]: value for _, _, value, h in first.sent if h["org_id"] == "acme"}
    recorder = Recorder()
    _connected(runtime, recorder)
    answer = _replay(client).json()
    assert answer == {"org_id": "acme", "topic": topics.CATALOG_CREATORS, "republished": len(WORLD)}
    assert {h["event_id"]: value for _, _, value, h in recorder.sent} == original
    assert {h["org_id"] for _, _, _, h in recorder.sent} == {"acme"}


def test_catalogue_replay_by_ids_and_time_and_of_a_creator_without_an_outbox_row(
    discovery: tuple[Runtime, TestClient],
) -> None:
    runtime, client = discovery
    recorder = Recorder()
    _connected(runtime, recorder)
    ids = [WORLD[0]["creator_id"], WORLD[1]["creator_id"]]
    assert _replay(client, ids=ids).json()["republished"] == 2
    assert sorted(key for _, key, _, _ in recorder.sent) == sorted(ids)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert _replay(client, since=later).json()["republished"] == 0
    assert _replay(client, until=later).json()["republished"] == len(WORLD)
    with runtime.db.transaction() as session:  # a database restored without its outbox
        for row in session.exec(select(OutboxMessage)):
            session.delete(row)
    recorder.sent.clear()
    assert _replay(client, ids=ids).json()["republished"] == 2
    again = Recorder()
    _connected(runtime, again)
    _replay(client, ids=ids)
    assert recorder.event_ids() == again.event_ids()  # derived from the state: the same ids every time
    event = unwrap(parse_envelope(recorder.sent[0][2]))
    assert isinstance(event, CreatorUpserted) and event.creator_id in ids


def test_replay_is_refused_with_503_while_the_broker_is_away(discovery: tuple[Runtime, TestClient]) -> None:
    runtime, client = discovery
    _connected(runtime, Recorder(), reachable=False)
    response = _replay(client)
    assert response.status_code == 503
    assert response.json()["code"] == "broker_unavailable"


def test_score_replay_publishes_each_stored_score_under_a_stable_id(tmp_path: Path) -> None:
    runtime = fraud_runtime(tmp_path)
    scored = datetime(2026, 5, 1, tzinfo=UTC)
    with runtime.db.transaction() as session:
        for i in range(5):
            session.add(FraudScore(org_id="acme", creator_id=f"c{i}", risk=0.1 * i, level="low", reasons=[],
                                   model_name="fraud_risk", model_version="3", scored_at=scored + timedelta(days=i)))  # fmt: skip
        session.add(FraudScore(org_id="other", creator_id="c0", risk=0.5, level="medium", reasons=[],
                               model_name="fraud_risk", model_version="3", scored_at=scored))  # fmt: skip
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(replay_router(topics.FRAUD_SCORES, fraud_replay.score_events))
    app.state.runtime = runtime
    client = TestClient(app)
    first, second = Recorder(), Recorder()
    _connected(runtime, first)
    assert _replay(client).json()["republished"] == 5
    _connected(runtime, second)
    assert _replay(client, since=(scored + timedelta(days=3)).isoformat()).json()["republished"] == 2
    assert second.event_ids() == first.event_ids()[3:]
    events = [unwrap(parse_envelope(value)) for _, _, value, _ in first.sent]
    assert all(isinstance(e, FraudScored) for e in events)
    assert [e.scored_at for e in events if isinstance(e, FraudScored)] == [
        scored + timedelta(days=i) for i in range(5)
    ]
    runtime.db.close()
