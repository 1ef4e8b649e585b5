"""The campaign through the real broker: the brief and approvals arrive as events, the plan is made over
REST, the close arrives as an event and the retrospective is readable."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from services.forecast.app import build
from services.forecast.config import ForecastSettings
from shared.broker import LocalBroker
from shared.events import CampaignCloseRequested, Event, wrap
from tests.busutil import owner, produce
from tests.forecast.campaignutil import CAMPAIGN, VARIANTS, decided, opened

ORG = "bus-campaign"


def _send(bootstrap: str, event: Event) -> None:
    envelope = wrap(event, producer=owner(event.topic), correlation_id=uuid.uuid4().hex, org_id=ORG)
    produce(bootstrap, event.topic, [(event.key(), envelope.to_bytes())])


def _wait(what: str, probe: Callable[[], Any], timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_campaign_events_in_plan_over_rest_retrospective_on_close(
    broker: LocalBroker, tmp_path: Path
) -> None:
    settings = ForecastSettings(kafka_bootstrap=broker.bootstrap, data_dir=tmp_path, webhooks_enabled=False,
                                consumer_group=f"forecast-cmp-{uuid.uuid4().hex[:6]}", log_level="WARNING")  # fmt: skip
    headers = {"X-Org-Id": ORG}
    with TestClient(build(settings)) as client:
        _wait("ready", lambda: client.get("/health/ready").status_code == 200)
        _send(broker.bootstrap, opened())
        for i in range(3):
            _send(broker.bootstrap, decided(i, ("instagram", "tiktok", "youtube")[i]))

        def propose() -> dict[str, Any] | None:
            r = client.post(
                f"/v1/campaigns/{CAMPAIGN}/plan",
                json={"variants": VARIANTS, "replace": True},
                headers=headers,
            )
            body = r.json()
            return (
                body if r.status_code == 201 and len({x["creator_id"] for x in body["lines"]}) == 3 else None
            )

        plan = _wait("a plan of the three approved creators", propose)
        assert plan["budget_usd"] == 40_000 and plan["metric"] == "reach"
        _send(broker.bootstrap, CampaignCloseRequested(campaign_id=CAMPAIGN, closed_by="olga",
                                                       closed_at=datetime.now(UTC)))  # fmt: skip
        retro = _wait("retrospective", lambda: (r := client.get(f"/v1/campaigns/{CAMPAIGN}/retrospective",
                                                                 headers=headers)).status_code == 200 and r.json())  # fmt: skip
        assert retro["closed_by"] == "olga" and len(retro["lines"]) == len(plan["lines"])
