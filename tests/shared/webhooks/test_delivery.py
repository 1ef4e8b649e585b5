"""Outbound delivery against a real HTTP receiver on loopback: down, then up; nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from shared.broker import free_port
from shared.bus.outbox import PendingMessage, envelope_headers
from shared.db import Database, migrate
from shared.events import CreatorUpserted, wrap
from shared.runtime import IDENTITY_MIGRATIONS
from shared.webhooks import claims, hub
from shared.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.busutil import creator_event


@pytest.fixture
def edge(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    return Database(url)


def _rows(n: int, org_id: str = "acme") -> list[PendingMessage]:
    """Published outbox rows as the relay hands them over."""
    out = []
    for i in range(n):
        env = wrap(creator_event(i), producer="t", correlation_id="c", org_id=org_id)
        out.append(PendingMessage(id=i, topic=CreatorUpserted.topic, key=env.key, value=env.to_bytes(),
                                  headers=envelope_headers(env)))  # fmt: skip
    return out


class Receiver:
    """An idempotent partner: verifies each signature and counts each webhook-id once."""

    def __init__(self, secret: str, port: int, answer_after_s: float = 0.0) -> None:
        self.secret, self.port = secret, port
        self.seen: Counter[str] = Counter()
        self.bodies: dict[str, dict[str, object]] = {}
        self.hosts: list[str] = []
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            payload = Webhook(self.secret).verify(body, dict(request.headers))
            msg_id = request.headers["webhook-id"]
            self.seen[msg_id] += 1
            self.hosts.append(request.headers.get("host", ""))
            self.bodies[msg_id] = payload
            await asyncio.sleep(answer_after_s)  # a slow partner: the answer comes late
            return Response(status_code=204)

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)


def _worker(edge: Database, **kw: object) -> hub.DeliveryWorker:
    policy = hub.DeliveryPolicy(allow_loopback=True, base_delay_s=0.05, **kw)  # type: ignore[arg-type]
    return hub.DeliveryWorker(edge, policy, poll_s=0.02)


@pytest.fixture
def port() -> Iterator[int]:
    yield free_port()


def test_fan_out_creates_one_delivery_per_subscribed_endpoint_and_is_idempotent(edge: Database) -> None:
    hub.new_endpoint(edge, "acme", "http://127.0.0.1:9/a", [CreatorUpserted.event_type])
    hub.new_endpoint(edge, "acme", "http://127.0.0.1:9/b", ["shortlist.published"])
    hub.new_endpoint(edge, "other-org", "http://127.0.0.1:9/c", ["*"])
    rows = _rows(3)
    assert hub.fan_out(edge, rows) == 3
    assert hub.fan_out(edge, rows) == 0  # a relay that crashed before marking repeats the fan-out
    with edge.transaction() as s:
        assert len(list(s.exec(select(WebhookDelivery)))) == 3


def test_receiver_down_then_up_gets_every_delivery_exactly_once_per_id(edge: Database, port: int) -> None:
    _, secret = hub.new_endpoint(edge, "acme", f"http://127.0.0.1:{port}/hook", ["*"])
    hub.fan_out(edge, _rows(20))
    worker = _worker(edge)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while _failed_attempts(edge) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)  # nothing listens yet: connection refused, attempts back off
        assert _failed_attempts(edge) >= 20
        with Receiver(secret, port) as receiver:
            deadline = time.monotonic() + 30
            while len(receiver.seen) < 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
    finally:
        worker.stop()
    assert len(receiver.seen) == 20
    assert set(receiver.seen.values()) == {1}
    first = next(iter(receiver.bodies.values()))
    assert first["type"] == CreatorUpserted.event_type
    with edge.transaction() as s:
        statuses = {d.status for d in s.exec(select(WebhookDelivery))}
    assert statuses == {"succeeded"}


def _failed_attempts(edge: Database) -> int:
    with edge.transaction() as s:
        return len(s.exec(select(WebhookAttempt).where(WebhookAttempt.error != "")).all())


def test_endpoint_is_disabled_after_a_run_of_failures_and_the_owner_told(edge: Database, port: int) -> None:
    hub.new_endpoint(edge, "acme", f"http://127.0.0.1:{port}/hook", ["*"])
    hub.fan_out(edge, _rows(2))
    told: list[WebhookEndpoint] = []
    worker = hub.DeliveryWorker(edge, hub.DeliveryPolicy(allow_loopback=True, base_delay_s=0.01,
                                                         disable_after_failures=4, disable_after_s=0), told.append, poll_s=0.01)  # fmt: skip
    worker.start()
    deadline = time.monotonic() + 10
    while not told and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop()
    assert len(told) == 1
    assert "failed attempts in a row" in told[0].disabled_reason
    with edge.transaction() as s:
        assert s.exec(select(WebhookEndpoint)).one().enabled is False


def test_a_burst_of_failures_in_a_short_outage_does_not_disable(edge: Database, port: int) -> None:
    hub.new_endpoint(edge, "acme", f"http://127.0.0.1:{port}/hook", ["*"])
    hub.fan_out(edge, _rows(10))
    worker = hub.DeliveryWorker(
        edge, hub.DeliveryPolicy(allow_loopback=True, disable_after_failures=4), poll_s=0.01
    )
    for _ in range(3):
        worker.deliver_due()
    with edge.transaction() as s:
        endpoint = s.exec(select(WebhookEndpoint)).one()
    assert endpoint.consecutive_failures >= 10
    assert endpoint.enabled is True


def test_internal_targets_are_refused_and_recorded(edge: Database) -> None:
    hub.new_endpoint(edge, "acme", "http://169.254.169.254/latest/meta-data", ["*"])
    hub.fan_out(edge, _rows(1))
    worker = _worker(edge)
    worker.deliver_due()
    with edge.transaction() as s:
        attempt = s.exec(select(WebhookAttempt)).one()
    assert attempt.status_code is None
    assert "refused target" in attempt.error


def test_replay_sends_the_same_webhook_id_again(edge: Database, port: int) -> None:
    _, secret = hub.new_endpoint(edge, "acme", f"http://127.0.0.1:{port}/hook", ["*"])
    hub.fan_out(edge, _rows(1))
    worker = _worker(edge)
    with Receiver(secret, port) as receiver:
        worker.deliver_due()
        with edge.transaction() as s:
            delivery_id = s.exec(select(WebhookDelivery)).one().delivery_id
        assert hub.replay(edge, "acme", delivery_id=delivery_id) == 1
        assert hub.replay(edge, "other-org", delivery_id=delivery_id) == 0
        worker.deliver_due()
    assert receiver.seen[delivery_id] == 2


def test_rotated_secret_signs_with_both_during_grace(edge: Database, port: int) -> None:
    from datetime import timedelta

    ep, old = hub.new_endpoint(edge, "acme", f"http://127.0.0.1:{port}/hook", ["*"])
    new = hub.rotate_secret(edge, "acme", ep.endpoint_id, timedelta(hours=1))
    hub.fan_out(edge, _rows(1))
    with Receiver(new, port) as receiver:
        _worker(edge).deliver_due()
    assert sum(receiver.seen.values()) == 1
    with edge.transaction() as s:
        stored = s.get(WebhookEndpoint, ep.endpoint_id)
        assert stored is not None
        assert len(hub.active_secrets(stored, datetime.now(UTC))) == 2
    assert orjson.loads(orjson.dumps({"old": old}))["old"].startswith("whsec_")


def test_delivery_connects_to_the_checked_address_not_a_second_dns_answer(
    edge: Database, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the first answer is checked, a later one would point inside; the POST must go to
    the first, with the partner's host name in the Host header."""
    _, secret = hub.new_endpoint(edge, "acme", f"http://partner.test:{port}/hook", ["*"])
    hub.fan_out(edge, _rows(1))
    real, lookups = socket.getaddrinfo, []

    def rebinding(host: str, *args: object, **kw: object) -> object:
        if host != "partner.test":
            return real(host, *args, **kw)  # type: ignore[arg-type]
        lookups.append(host)
        ip = "127.0.0.1" if len(lookups) == 1 else "10.9.9.9"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    with Receiver(secret, port) as receiver:
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        _worker(edge, timeout_s=2.0).deliver_due()
    assert sum(receiver.seen.values()) == 1
    assert receiver.hosts == [f"partner.test:{port}"]
    assert lookups == ["partner.test"]


def test_slow_partner_gets_each_delivery_exactly_once_from_two_competing_workers(
    postgres_database: Callable[[str], str], port: int
) -> None:
    """2 s per answer, 60 events, two processes' workers on one database: claims are per delivery with a
    lease longer than a send, so no worker re-claims one whose answer is still coming (the batch claim
    sent 15 duplicates here). A 3 s timeout keeps the lease (14 s) shorter than the 60 s a single
    sender would need for all of them, as in the report."""
    url = postgres_database("slow_partner")
    migrate(url, IDENTITY_MIGRATIONS)
    edge = Database(url)
    _, secret = hub.new_endpoint(edge, "acme", f"http://127.0.0.1:{port}/hook", ["*"])
    hub.fan_out(edge, _rows(60))
    policy = hub.DeliveryPolicy(allow_loopback=True, timeout_s=3.0, senders=10)
    workers = [hub.DeliveryWorker(Database(url), policy, poll_s=0.05) for _ in range(2)]
    with Receiver(secret, port, answer_after_s=2.0) as receiver:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 60
        while _statuses(edge) != {"succeeded"} and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # a duplicate would arrive now
        for worker in workers:
            worker.stop()
    assert len(receiver.seen) == 60
    assert sum(receiver.seen.values()) == 60
    with edge.transaction() as s:
        assert len(s.exec(select(WebhookAttempt)).all()) == 60


def _statuses(edge: Database) -> set[str]:
    with edge.transaction() as s:
        return {d.status for d in s.exec(select(WebhookDelivery))}


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_lapses(edge: Database) -> None:
    hub.new_endpoint(edge, "acme", "http://127.0.0.1:9/a", ["*"])
    hub.fan_out(edge, _rows(1))
    lease = timedelta(milliseconds=300)
    first = claims.claim_next(edge, lease)
    assert first is not None
    assert claims.claim_next(edge, lease) is None
    time.sleep(0.4)  # the first sender died mid-send
    second = claims.claim_next(edge, lease)
    assert second is not None and second.delivery_id == first.delivery_id
    with edge.transaction() as s:
        assert claims.held(s, first) is None  # the old sender re-checks and sends nothing
        assert claims.held(s, second) is not None


def test_replay_of_a_delivery_in_flight_waits_for_the_attempt(edge: Database) -> None:
    hub.new_endpoint(edge, "acme", "http://127.0.0.1:9/a", ["*"])
    hub.fan_out(edge, _rows(1))
    claim = claims.claim_next(edge, timedelta(seconds=30))
    assert claim is not None
    assert hub.replay(edge, "acme", delivery_id=claim.delivery_id) == 1
    assert claims.claim_next(edge, timedelta(seconds=30)) is None  # still one attempt in flight
    with edge.transaction() as s:
        assert claims.held(s, claim) is None  # and the one in flight will not mark it done
