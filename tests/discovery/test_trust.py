"""Fraud reaches the shortlist: an audience check with a high fake share and open anomalies change the
creator's rank, reasons and confidence; a dismissed anomaly stops counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.events import AnomalyDetected, AnomalyReviewed, FraudScored, Reason
from shared.runtime import Runtime
from tandem.demo import DEMO_BRIEFS
from tandem.synthetic import generate_world
from tests.discovery.apputil import deliver, discovery_client

WORLD = generate_world(300, seed=11).payloads()
BRIEF = {**DEMO_BRIEFS[0], "shortlist_size": 200}  # the whole pool, so a demoted creator stays visible
T0 = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    c = discovery_client(runtime)
    assert c.post("/v1/creators/bulk", json={"creators": WORLD}).status_code == 200
    return c


def _low_risk(creator_id: str, reasons: list[Reason] | None = None, at: datetime = T0) -> FraudScored:
    return FraudScored(creator_id=creator_id, risk=0.05, level="low", reasons=reasons or [],
                       model_name="fraud_risk", model_version="1", scored_at=at)  # fmt: skip


def _entry(client: TestClient, creator_id: str) -> dict[str, Any]:
    out = client.post("/v1/briefs", json=BRIEF).json()
    return next(e for e in out["entries"] if e["creator"]["creator_id"] == creator_id)


def _fake_check(creator_id: str, share: float, anomaly_id: str = "an-1") -> AnomalyDetected:
    text = f"fake followers {share:.0%} (95% 55%-69%) vs 25% avoid-level"
    reason = Reason(code="fake_followers", text=text, value=share, reference=0.25, direction=-1)
    return AnomalyDetected(anomaly_id=anomaly_id, creator_id=creator_id, kind="fake_followers", severity=0.9,
                           reasons=[reason], detected_at=T0 + timedelta(hours=1))  # fmt: skip


def test_high_fake_share_check_lowers_rank_and_changes_reason(client: TestClient, runtime: Runtime) -> None:
    first = client.post("/v1/briefs", json=BRIEF).json()["entries"]
    for e in first:
        deliver(runtime, _low_risk(e["creator"]["creator_id"]))
    before = client.post("/v1/briefs", json=BRIEF).json()["entries"]
    top = before[0]
    cid = top["creator"]["creator_id"]
    fraud = next(r for r in top["reasons"] if r["code"] == "fraud_risk")
    assert fraud["text"] == "low fraud risk (0.05); audience not checked yet"
    assert "audience quality 100" not in str(top["reasons"])

    deliver(runtime, _fake_check(cid, 0.62))
    after = _entry(client, cid)
    assert after["rank"] > top["rank"] and after["match_score"] < top["match_score"]
    check = next(r for r in after["reasons"] if r["code"] == "audience_check")
    assert check["text"].startswith("low fraud risk (0.05); audience check: 62% fake followers")
    assert check["direction"] == -1 and check["value"] == pytest.approx(0.62)
    anomaly = next(r for r in after["reasons"] if r["code"] == "open_anomaly")
    assert anomaly["text"].startswith("open anomaly fake_followers (severity 0.90)")
    assert after["confidence"] == "low"
    assert any("62% fake followers" in n for n in after["confidence_notes"])

    # A person dismisses the anomaly: it stops counting, the audience check itself still does.
    deliver(runtime, AnomalyReviewed(anomaly_id="an-1", creator_id=cid, kind="fake_followers",
                                      verdict="dismissed", reviewer="ana", reviewed_at=T0 + timedelta(hours=2)))  # fmt: skip
    dismissed = _entry(client, cid)
    assert not any(r["code"] == "open_anomaly" for r in dismissed["reasons"])
    assert dismissed["match_score"] > after["match_score"]
    assert any(r["code"] == "audience_check" for r in dismissed["reasons"])


def test_audience_check_in_a_fraud_score_reaches_the_reasons_and_older_checks_lose(
    client: TestClient, runtime: Runtime
) -> None:
    cid = client.post("/v1/briefs", json=BRIEF).json()["entries"][0]["creator"]["creator_id"]
    later = [
        Reason(code="fake_followers", text="fake 8%", value=0.08),
        Reason(code="audience_quality", text="q", value=81),
    ]
    deliver(runtime, _low_risk(cid, later, at=T0 + timedelta(days=1)))
    deliver(runtime, _low_risk(cid, [Reason(code="fake_followers", text="old", value=0.7)], at=T0))
    entry = _entry(client, cid)
    check = next(r for r in entry["reasons"] if r["code"] == "audience_check")
    assert check["text"] == "low fraud risk (0.05); audience check: 8% fake followers, audience quality 81"
    assert check["direction"] == 1 and entry["confidence_notes"] == []
