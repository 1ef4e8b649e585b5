"""Results in over REST and signed partner webhooks: validated, recorded once, staged as one event each."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.forecast import outcomes
from services.forecast.models import CampaignResult, ForecastRecord
from shared.bus.outbox import OutboxMessage
from shared.db import Database, migrate
from shared.events import CampaignResultReported
from shared.idempotency import IdempotencyStore
from shared.runtime import IDENTITY_MIGRATIONS, Runtime
from shared.webhooks.inbound import register_source
from shared.webhooks.signing import new_secret, sign_headers

ORG = {"X-Org-Id": "acme"}


def _result(result_id: str = "res-1", **over: Any) -> dict[str, Any]:
    return {"result_id": result_id, "campaign_id": "cmp-1", "creator_id": "cr-1", "platform": "instagram",
            "format": "reel", "market": "RU", "reach": 1200, "engagements": 80, "clicks": 4,
            "conversions": 1, "spend_usd": 300, "posted_at": "2026-10-01T18:00:00+00:00", **over}  # fmt: skip


def _staged(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.db.transaction() as session:
        rows = session.exec(select(OutboxMessage)).all()
        return [{"org": json.loads(r.value)["org_id"], **json.loads(r.value)["payload"]} for r in rows]


@pytest.fixture
def edge(runtime: Runtime, tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    runtime.idempotency = IdempotencyStore(Database(url))
    return runtime.idempotency.db


def test_results_batch_is_staged_once_per_result_id(client: TestClient, runtime: Runtime) -> None:
    body = {"results": [_result("res-1"), _result("res-2", creator_id="cr-2"), _result("res-1")]}
    r = client.post("/v1/results", json=body, headers=ORG)
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 2, "duplicates": 1, "result_ids": ["res-1", "res-2"]}
    again = client.post("/v1/results", json={"results": [_result("res-2")]}, headers=ORG).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    staged = _staged(runtime)
    assert sorted(e["result_id"] for e in staged) == ["res-1", "res-2"]
    assert {e["org"] for e in staged} == {"acme"}


def test_results_invalid_payload_is_422_with_field(client: TestClient, runtime: Runtime) -> None:
    r = client.post("/v1/results", json={"results": [_result(reach=-5)]}, headers=ORG)
    assert r.status_code == 422
    assert "reach" in r.json()["errors"][0]["field"]
    r = client.post("/v1/results", json={"results": [_result(market="XX")]}, headers=ORG)
    assert r.status_code == 422
    assert _staged(runtime) == []


def test_signed_webhook_is_recorded_for_the_sources_org(
    client: TestClient, runtime: Runtime, edge: Database
) -> None:
    source, secret = register_source(edge, "globex", "shop platform")
    body = json.dumps({"results": [_result("res-w1")]}).encode()
    r = client.post(
        f"/v1/inbound/{source}/results", content=body, headers=sign_headers([secret], "msg_1", body)
    )
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1
    with runtime.db.transaction() as session:
        row = session.get(CampaignResult, ("globex", "res-w1"))
        assert row is not None
        assert (row.org_id, row.source) == ("globex", f"inbound:{source}")
    assert [e["org"] for e in _staged(runtime)] == ["globex"]


def test_replayed_webhook_id_changes_nothing(client: TestClient, runtime: Runtime, edge: Database) -> None:
    source, secret = register_source(edge, "globex", "p")
    body = json.dumps({"results": [_result("res-w2")]}).encode()
    headers = sign_headers([secret], "msg_2", body)
    assert client.post(f"/v1/inbound/{source}/results", content=body, headers=headers).status_code == 202
    replay = client.post(f"/v1/inbound/{source}/results", content=body, headers=headers)
    assert replay.status_code == 202
    assert replay.json()["accepted"] == 0
    assert len(_staged(runtime)) == 1


def test_forged_or_stale_webhook_is_refused(client: TestClient, runtime: Runtime, edge: Database) -> None:
    source, secret = register_source(edge, "globex", "p")
    body = json.dumps({"results": [_result("res-w3")]}).encode()
    forged = client.post(f"/v1/inbound/{source}/results", content=body,
                         headers=sign_headers([new_secret()], "msg_3", body))  # fmt: skip
    stale = client.post(f"/v1/inbound/{source}/results", content=body,
                        headers=sign_headers([secret], "msg_4", body, timestamp=int(time.time()) - 3600))  # fmt: skip
    tampered = client.post(f"/v1/inbound/{source}/results", content=body.replace(b"1200", b"9999"),
                           headers=sign_headers([secret], "msg_5", body))  # fmt: skip
    unknown = client.post(
        "/v1/inbound/src_nope/results", content=body, headers=sign_headers([secret], "m", body)
    )
    assert [r.status_code for r in (forged, stale, tampered, unknown)] == [401, 401, 401, 401]
    assert _staged(runtime) == []


def test_signed_webhook_with_bad_body_is_422(client: TestClient, runtime: Runtime, edge: Database) -> None:
    source, secret = register_source(edge, "globex", "p")
    body = json.dumps({"results": [_result("res-w6", reach="lots")]}).encode()
    r = client.post(
        f"/v1/inbound/{source}/results", content=body, headers=sign_headers([secret], "msg_6", body)
    )
    assert r.status_code == 422
    assert "reach" in r.json()["errors"][0]["field"]


def test_adjustment_report_compares_people_with_the_model(client: TestClient, runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        session.add(ForecastRecord(
            forecast_id="fc-1", org_id="acme", campaign_id="cmp-1", creator_id="cr-1", platform="instagram",
            format="reel", market="RU", inputs={}, model_name="forecast", model_version="1",
            metrics=[{"metric": "reach", "p10": 800.0, "p50": 1000.0, "p90": 1500.0, "definition": "d"}],
            created_at=datetime.now(UTC)))  # fmt: skip
    body = {
        "metric": "reach",
        "multiplier": 0.6,
        "reason": "older audience",
        "market": "RU",
        "author": "olga",
    }
    as_olga = {**ORG, "X-Person": "olga"}
    assert client.post("/v1/forecasts/fc-1/adjustments", json=body, headers=as_olga).status_code == 201
    with runtime.db.transaction() as session:
        outcomes.record_result(session, "acme", CampaignResultReported.model_validate(_result(reach=650)))
    (row,) = client.get("/v1/feedback/adjustments", headers=ORG).json()
    assert (row["author"], row["market"], row["n"]) == ("olga", "RU", 1)
    assert (row["model"]["mdape"], row["adjusted"]["mdape"]) == (0.5385, 0.0769)  # 1000 and 600 vs 650
    assert row["mdape_gain"] > 0


def test_two_organisations_using_the_same_result_id_both_keep_their_results(
    client: TestClient, runtime: Runtime
) -> None:
    """result_id is the client's: one organisation using an id must not pre-claim it from another."""
    for org, reach in (("acme", 1200), ("globex", 5000)):
        with runtime.db.transaction() as session:
            session.add(ForecastRecord(
                forecast_id=f"fc-{org}", org_id=org, campaign_id="cmp-1", creator_id="cr-1", platform="instagram",
                format="reel", market="RU", inputs={}, model_name="forecast", model_version="1",
                metrics=[{"metric": "reach", "p10": 800.0, "p50": 1000.0, "p90": 1500.0, "definition": "d"}],
                created_at=datetime.now(UTC)))  # fmt: skip
        r = client.post("/v1/results", json={"results": [_result("shared-1", reach=reach)]},
                        headers={"X-Org-Id": org})  # fmt: skip
        assert r.json()["accepted"] == 1, (org, r.text)
    assert sorted((e["org"], e["reach"]) for e in _staged(runtime)) == [("acme", 1200), ("globex", 5000)]
    with runtime.db.transaction() as session:
        kept = {(row.org_id, row.payload["reach"]) for row in session.exec(select(CampaignResult))}
        assert kept == {("acme", 1200), ("globex", 5000)}
        for org, reach in (("acme", 1200), ("globex", 5000)):
            event = CampaignResultReported.model_validate(_result("shared-1", reach=reach))
            scored = outcomes.record_result(session, org, event)
            assert scored is not None and scored.forecast_id == f"fc-{org}"
    detail = client.get("/v1/forecasts/fc-globex", headers={"X-Org-Id": "globex"}).json()
    assert detail["outcomes"] == [{"result_id": "shared-1", "errors": detail["outcomes"][0]["errors"]}]


def test_signed_webhook_with_impossible_figures_or_unknown_post_is_422_naming_the_field(
    client: TestClient, runtime: Runtime, edge: Database
) -> None:
    source, secret = register_source(edge, "globex", "shop platform")
    for n, (over, field) in enumerate([({"clicks": 1, "conversions": 3}, "results.0.conversions"),
                                       ({"line_id": "l-1"}, "results.0.line_id")]):  # fmt: skip
        body = json.dumps({"results": [_result(f"res-bad-{n}", **over)]}).encode()
        r = client.post(f"/v1/inbound/{source}/results", content=body,
                        headers=sign_headers([secret], f"msg_bad_{n}", body))  # fmt: skip
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert _staged(runtime) == []


def test_webhook_refused_with_422_then_retried_corrected_under_the_same_id_is_applied(
    client: TestClient, runtime: Runtime, edge: Database
) -> None:
    source, secret = register_source(edge, "globex", "shop platform")
    wrong = json.dumps({"results": [_result("res-fix", clicks=1, conversions=3)]}).encode()
    r = client.post(f"/v1/inbound/{source}/results", content=wrong,
                    headers=sign_headers([secret], "msg_fix", wrong))  # fmt: skip
    assert r.status_code == 422, r.text
    corrected = json.dumps({"results": [_result("res-fix", clicks=4, conversions=1)]}).encode()
    r = client.post(f"/v1/inbound/{source}/results", content=corrected,
                    headers=sign_headers([secret], "msg_fix", corrected))  # fmt: skip
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1
    assert [e["result_id"] for e in _staged(runtime)] == ["res-fix"]
