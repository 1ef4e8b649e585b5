"""Partner webhooks across real processes: a service's published events reach a partner's endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from shared import topics
from shared.broker import Broker, free_port
from shared.events import FraudScored
from tandem.supervisor import Suite
from tests.busutil import creator_messages, produce
from tests.shared.webhooks.test_delivery import Receiver

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_fraud_scores_are_delivered_to_a_partner_that_was_down_for_a_while(
    broker: Broker, postgres_database: Callable[[str], str], tmp_path: Path
) -> None:
    suite = Suite(
        bootstrap=broker.bootstrap, workdir=tmp_path,
        database_urls={"fraud": postgres_database("wh_fraud")},
        extra_env={"TANDEM_AUTH_DATABASE_URL": postgres_database("wh_edge"),
                   "TANDEM_FRAUD_WEBHOOKS_ALLOW_LOOPBACK": "true", "TANDEM_FRAUD_WEBHOOK_BASE_DELAY_S": "0.2",
                   "TANDEM_FRAUD_CONSUMER_GROUP": "tandem-fraud-webhooks"},
    )  # fmt: skip
    fraud = suite.add("fraud")
    fraud.start()
    fraud.wait_ready()
    port = free_port()
    try:
        r = httpx.post(f"{fraud.url}/v1/webhooks/endpoints", headers={"X-Org-Id": "partner-org"},
                       json={"url": f"http://127.0.0.1:{port}/hook", "event_types": [FraudScored.event_type]})  # fmt: skip
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
        endpoint_id = r.json()["endpoint_id"]
        produce(
            broker.bootstrap, topics.CATALOG_CREATORS, creator_messages(500_000, 25, org_id="partner-org")
        )
        listing = f"{fraud.url}/v1/webhooks/endpoints/{endpoint_id}/deliveries"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the partner is down: every delivery fails at least once
            listed = httpx.get(listing, headers={"X-Org-Id": "partner-org"}).json()
            if len(listed) == 25 and all(d["attempts"] >= 1 for d in listed):
                break
            time.sleep(0.2)
        with Receiver(secret, port) as receiver:
            deadline = time.monotonic() + 60
            while len(receiver.seen) < 25 and time.monotonic() < deadline:
                time.sleep(0.1)
        assert len(receiver.seen) == 25
        assert set(receiver.seen.values()) == {1}
        assert {b["type"] for b in receiver.bodies.values()} == {FraudScored.event_type}
        listed = httpx.get(listing, headers={"X-Org-Id": "partner-org"}).json()
        assert {d["status"] for d in listed} == {"succeeded"}
        assert all(d["attempts"] >= 2 for d in listed)
        other = httpx.get(
            f"{fraud.url}/v1/webhooks/endpoints/{endpoint_id}/deliveries", headers={"X-Org-Id": "x"}
        )
        assert other.status_code == 404
    finally:
        suite.stop()
