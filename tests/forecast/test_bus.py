"""The forecast service on the real broker: approval in -> forecast out; a reviewer's adjustment event in,
stored beside the model's figure; observations of an A/B test in."""

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
from shared.broker import Broker
from shared.events import (
    Event,
    ExperimentObservationsRecorded,
    ForecastAdjustmentProposed,
    ReviewDecided,
    wrap,
)
from tests.busutil import owner, produce

ORG = "bus-org"


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


def _decided(campaign: str) -> ReviewDecided:
    creator = {"creator_id": "cr-bus", "name": "Bo", "home_market": "RU", "platform": "instagram",
               "followers": 120_000, "engagement_rate": 0.03, "engagement_basis": "per_follower",
               "audience": [{"market": "RU", "audience_share": 0.7, "engagement_rate": 0.03}]}  # fmt: skip
    return ReviewDecided.model_validate({
        "decision_id": f"d-{campaign}", "task_id": "t-1", "campaign_id": campaign, "tier": "volume",
        "decision": "approve", "automated": False, "decided_by": "olga", "route_reason": "r", "match_score": 0.9,
        "target_markets": ["RU"], "creator": creator, "decided_at": datetime.now(UTC)})  # fmt: skip


def test_events_in_and_out_through_the_broker(broker: Broker, tmp_path: Path) -> None:
    settings = ForecastSettings(kafka_bootstrap=broker.bootstrap, data_dir=tmp_path, webhooks_enabled=False,
                                consumer_group=f"forecast-bus-{uuid.uuid4().hex[:6]}", log_level="WARNING")  # fmt: skip
    campaign = f"cmp-{uuid.uuid4().hex[:6]}"
    headers = {"X-Org-Id": ORG}
    with TestClient(build(settings)) as client:
        _wait("ready", lambda: client.get("/health/ready").status_code == 200)
        _send(broker.bootstrap, _decided(campaign))
        [fc] = _wait(
            "forecast", lambda: client.get(f"/v1/campaigns/{campaign}/forecasts", headers=headers).json()
        )
        _send(broker.bootstrap, ForecastAdjustmentProposed(
            adjustment_id=f"adj-{campaign}", forecast_id=fc["forecast_id"], metric="reach", multiplier=0.5,
            reason="older RU audience", market="RU", author="olga", proposed_at=datetime.now(UTC)))  # fmt: skip
        detail = _wait("adjustment", lambda: (d := client.get(f"/v1/forecasts/{fc['forecast_id']}",
                                                              headers=headers).json())["adjustments"] and d)  # fmt: skip
        [adj] = detail["adjustments"]
        reach = next(m for m in fc["metrics"] if m["metric"] == "reach")
        assert (adj["model_p50"], adj["source"]) == (reach["p50"], "event")
        assert adj["adjusted_p50"] == round(reach["p50"] * 0.5, 1)

        design = {"name": "bus", "metric": "m", "variants": ["a", "b"], "baseline": 0.3, "mde": 0.05}
        exp = client.post("/v1/experiments", json=design, headers=headers).json()
        obs = [{"unit_id": f"u{i}", "variant": "ab"[i % 2], "value": float(i % 3 == 0)} for i in range(40)]
        _send(broker.bootstrap, ExperimentObservationsRecorded.model_validate(
            {"experiment_id": exp["experiment_id"], "observations": obs, "recorded_at": datetime.now(UTC)}))  # fmt: skip
        report = _wait("report", lambda: (r := client.get(f"/v1/experiments/{exp['experiment_id']}/report",
                                                          headers=headers)).status_code == 200 and r.json())  # fmt: skip
        assert report["arms"]["a"]["n"] == 20 and report["arms"]["b"]["n"] == 20
