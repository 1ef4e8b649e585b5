"""Fraud REST: bulk columnar scoring with bad rows, audience quality, anomalies and their review."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlmodel import select

from services.fraud.config import FraudSettings
from services.fraud.models import AnomalyLabel
from shared.bus.tables import OutboxMessage
from shared.events import parse_envelope
from shared.runtime import Runtime

ACCOUNT = {
    "platform": "instagram", "handle": "h", "followers": 20_000, "following": 400, "posts": 300,
    "engagement_rate": 0.018, "avg_likes": 350, "avg_comments": 10, "max_monthly_growth": 0.03,
    "median_monthly_growth": 0.02,
}  # fmt: skip


def _columns(n: int) -> dict[str, list[Any]]:
    return {
        "platform": ["instagram"] * n,
        "followers": [10_000 + i for i in range(n)],
        "following": [300] * n,
        "engagement_rate": [0.02] * n,
    }


def _outbox_types(runtime: Runtime) -> list[str]:
    with runtime.db.transaction() as s:
        return [parse_envelope(m.value).type for m in s.exec(select(OutboxMessage))]


def test_score_one_names_model_and_version(client: TestClient) -> None:
    r = client.post("/v1/fraud/score", json={"creator_id": "c1", "account": ACCOUNT})
    assert r.status_code == 200
    body = r.json()
    assert 0 <= body["risk"] <= 1 and body["level"] in ("low", "medium", "high")
    assert body["model_name"] == "fraud_risk" and body["model_version"]


def test_score_one_rejects_negative_count_naming_the_field(client: TestClient) -> None:
    r = client.post("/v1/fraud/score", json={"account": {**ACCOUNT, "followers": -5}})
    assert r.status_code == 422
    assert any(e["field"] == "account.followers" for e in r.json()["errors"])


def test_score_columns_scores_good_rows_and_names_bad_ones(client: TestClient) -> None:
    cols = _columns(5)
    cols["followers"][1] = -3
    cols["engagement_rate"][2] = "high"
    cols["platform"][3] = "myspace"
    r = client.post("/v1/fraud/score/columns", json={"columns": cols})
    assert r.status_code == 200
    body = r.json()
    assert (body["rows"], body["scored"], body["rejected"]) == (5, 2, 3)
    assert {(e["row"], e["field"]) for e in body["errors"]} == {
        (1, "followers"), (2, "engagement_rate"), (3, "platform")
    }  # fmt: skip
    assert body["risk"][1] is None and body["level"][1] == "unknown"
    assert all(0 <= body["risk"][i] <= 1 for i in (0, 4))


def test_score_columns_matches_single_scoring(client: TestClient) -> None:
    cols = {k: [v] for k, v in ACCOUNT.items() if k != "handle"}
    bulk = client.post("/v1/fraud/score/columns", json={"columns": cols}).json()
    one = client.post("/v1/fraud/score", json={"account": ACCOUNT}).json()
    assert bulk["risk"][0] == one["risk"]


def test_score_columns_rejects_missing_column_naming_it(client: TestClient) -> None:
    cols = _columns(3)
    del cols["followers"]
    r = client.post("/v1/fraud/score/columns", json={"columns": cols})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "columns.followers"


def test_score_columns_rejects_ragged_columns(client: TestClient) -> None:
    cols = _columns(3)
    cols["following"] = [1, 2]
    r = client.post("/v1/fraud/score/columns", json={"columns": cols})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "columns.following"


def _followers(n: int, fake_share: float, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if rng.random() < fake_share:  # the InstaFake fake pattern: follows many, no posts, no bio
            out.append({"followers": int(rng.integers(0, 60)), "following": int(rng.integers(1500, 7000)),
                        "posts": 0, "bio_length": 0, "has_profile_pic": False, "is_private": False,
                        "username": f"user{rng.integers(10_000, 99_999)}"})  # fmt: skip
        else:
            out.append({"followers": int(rng.integers(150, 2000)), "following": int(rng.integers(100, 900)),
                        "posts": int(rng.integers(20, 400)), "bio_length": int(rng.integers(10, 120)),
                        "has_profile_pic": True, "is_private": bool(rng.random() < 0.3),
                        "username": f"person_{i}"})  # fmt: skip
    return out


def test_audience_reports_share_types_and_score(client: TestClient) -> None:
    r = client.post("/v1/fraud/audience", json={"followers": _followers(400, 0.3), "account": ACCOUNT})
    assert r.status_code == 200
    body = r.json()
    assert body["state"] == "ready"
    share = body["fake_share"]
    assert share["low"] <= share["estimate"] <= share["high"]
    assert 0.2 < share["estimate"] < 0.4
    assert set(body["follower_types"]) == {"real", "influencers", "mass_followers", "suspicious"}
    assert 0 <= body["audience_quality_score"] <= 100
    assert body["model_name"] == "fake_account"


def test_audience_small_sample_is_low_confidence(client: TestClient) -> None:
    body = client.post("/v1/fraud/audience", json={"followers": _followers(25, 0.3)}).json()
    assert body["state"] == "low_confidence"
    assert body["fake_share"]["estimate"] is None and body["audience_quality_score"] is None
    assert body["reasons"][0]["code"] == "low_confidence"


def test_audience_rejects_bad_profile_naming_the_field(client: TestClient) -> None:
    followers = _followers(3, 0.0)
    followers[2]["posts"] = "many"
    r = client.post("/v1/fraud/audience", json={"followers": followers})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "followers.2.posts"


def test_history_anomaly_is_stored_published_and_reviewed(client: TestClient, runtime: Runtime) -> None:
    history = {"monthly_followers": [10_000, 10_200, 10_400, 10_600, 19_000, 19_200]}
    found = client.post("/v1/fraud/creators/c9/history", json=history).json()
    assert [a["kind"] for a in found] == ["growth_spike"]
    again = client.post("/v1/fraud/creators/c9/history", json=history).json()
    assert again[0]["anomaly_id"] == found[0]["anomaly_id"]
    assert _outbox_types(runtime).count("fraud.anomaly_detected") == 1
    aid = found[0]["anomaly_id"]
    r = client.post(
        f"/v1/fraud/anomalies/{aid}/review", json={"verdict": "confirmed"}, headers={"X-Person": "ana"}
    )
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert "fraud.anomaly_reviewed" in _outbox_types(runtime)
    with runtime.db.transaction() as s:
        label = s.exec(select(AnomalyLabel)).one()
        assert (label.verdict, label.kind, label.reviewer) == ("confirmed", "growth_spike", "ana")
    second = client.post(
        f"/v1/fraud/anomalies/{aid}/review", json={"verdict": "dismissed"}, headers={"X-Person": "bo"}
    )
    assert second.status_code == 409
    listed = client.get("/v1/fraud/anomalies", params={"creator_id": "c9", "status": "confirmed"}).json()
    assert [a["anomaly_id"] for a in listed] == [aid]


def test_review_of_unknown_anomaly_is_404(client: TestClient) -> None:
    r = client.post("/v1/fraud/anomalies/nope/review", json={"verdict": "dismissed"})
    assert r.status_code == 404


def test_score_one_rejects_nan_naming_the_field(client: TestClient) -> None:
    body = '{"account": {"platform": "instagram", "handle": "h", "followers": 10, "engagement_rate": 0.1, "max_monthly_growth": NaN}}'
    r = client.post("/v1/fraud/score", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "account.max_monthly_growth"


def test_score_one_rejects_string_count_naming_the_field(client: TestClient) -> None:
    r = client.post("/v1/fraud/score", json={"account": {**ACCOUNT, "posts": "lots"}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "account.posts"


def test_scoring_routes_need_a_key_in_keys_mode(client: TestClient, runtime: Runtime) -> None:
    runtime.settings = FraudSettings(data_dir=runtime.settings.data_dir, auth_mode="keys")
    assert client.post("/v1/fraud/score", json={"account": ACCOUNT}).status_code == 401
    assert client.post("/v1/fraud/score/columns", json={"columns": _columns(2)}).status_code == 401
    assert client.post("/v1/fraud/audience", json={"followers": _followers(3, 0.0)}).status_code == 401


def test_audience_with_many_fakes_raises_an_anomaly(client: TestClient, runtime: Runtime) -> None:
    body = {"creator_id": "c7", "followers": _followers(600, 0.6)}
    report = client.post("/v1/fraud/audience", json=body).json()
    assert report["fake_share"]["low"] > 0.25
    listed = client.get("/v1/fraud/anomalies", params={"creator_id": "c7"}).json()
    assert [a["kind"] for a in listed] == ["fake_followers"]
    assert listed[0]["reasons"][0]["code"] == "fake_followers"
    clean = client.post("/v1/fraud/audience", json={"creator_id": "c8", "followers": _followers(600, 0.05)})
    assert clean.json()["state"] == "ready"
    assert client.get("/v1/fraud/anomalies", params={"creator_id": "c8"}).json() == []


def test_audience_check_publishes_demographics_with_sample_sizes(
    client: TestClient, runtime: Runtime
) -> None:
    followers = _followers(300, 0.1)
    for i, f in enumerate(followers):
        f["country"] = "BR" if i % 4 else "PT"
        if i < 50:  # a source that shows age for some followers only
            f["age"] = 19 if i % 2 else 58
    body = {"creator_id": "c9", "followers": followers, "sampled_at": "2026-11-20T09:30:00Z"}
    report = client.post("/v1/fraud/audience", json=body).json()
    with runtime.db.transaction() as s:
        (event,) = [parse_envelope(m.value) for m in s.exec(select(OutboxMessage))]
    assert event.type == "fraud.audience_checked" and event.key == "c9"
    sent = event.payload
    assert sent["measured_at"] == "2026-11-20T09:30:00Z" and sent["sample_size"] == 300
    assert sent["fake_share"] == report["fake_share"]["estimate"] and sent["state"] == report["state"]
    country, age = sent["breakdowns"]
    assert (country["dimension"], country["sample_size"]) == ("country", 300)
    assert country["shares"][0]["value"] == "BR" and country["shares"][0]["share"] == 0.75
    assert country["shares"][0]["low"] < 0.75 < country["shares"][0]["high"]
    assert (age["dimension"], age["sample_size"]) == ("age", 50)
    assert {s["value"] for s in age["shares"]} == {"18-24", "55+"}
    # No creator named: nothing to publish.
    client.post("/v1/fraud/audience", json={"followers": followers})
    assert _outbox_types(runtime) == ["fraud.audience_checked"]
