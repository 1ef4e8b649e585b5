"""Forecast REST: plans, adjustments with both figures kept, experiments end to end, and bad input as 4xx."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from services.forecast.models import ForecastRecord
from shared.runtime import Runtime

ORG = {"X-Org-Id": "acme"}


def _stored_forecast(runtime: Runtime) -> str:
    from datetime import UTC, datetime

    with runtime.db.transaction() as session:
        session.add(ForecastRecord(
            forecast_id="fc-1", org_id="acme", campaign_id="cmp-1", creator_id="cr-1", platform="instagram",
            format="post", market="RU", inputs={}, model_name="forecast", model_version="1",
            metrics=[{"metric": "reach", "p10": 800.0, "p50": 1000.0, "p90": 1500.0, "definition": "d"}],
            created_at=datetime.now(UTC)))  # fmt: skip
    return "fc-1"


def test_adjustment_over_rest_keeps_both_figures(client: TestClient, runtime: Runtime) -> None:
    fid = _stored_forecast(runtime)
    body = {
        "metric": "reach",
        "absolute_value": 600,
        "reason": "older audience",
        "market": "RU",
        "author": "olga",
    }
    r = client.post(f"/v1/forecasts/{fid}/adjustments", json=body, headers={**ORG, "X-Person": "olga"})
    assert r.status_code == 201, r.text
    adj = r.json()
    assert (adj["model_p50"], adj["adjusted_p50"]) == (1000.0, 600.0)
    assert (adj["adjusted_p10"], adj["adjusted_p90"]) == (480.0, 900.0)  # the interval keeps its shape
    detail = client.get(f"/v1/forecasts/{fid}", headers=ORG).json()
    assert detail["metrics"][0]["p50"] == 1000.0  # the model's figure is untouched
    assert detail["adjustments"][0]["reason"] == "older audience"


def test_adjustment_bad_input_is_4xx_with_field(client: TestClient, runtime: Runtime) -> None:
    fid = _stored_forecast(runtime)
    both = {"metric": "reach", "multiplier": 2, "absolute_value": 5, "reason": "r"}
    assert (
        client.post(f"/v1/forecasts/{fid}/adjustments", json=both, headers=ORG).json()["errors"][0]["field"]
        == "multiplier"
    )
    unknown = {"metric": "likes", "multiplier": 2, "reason": "r"}
    r = client.post(f"/v1/forecasts/{fid}/adjustments", json=unknown, headers=ORG)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "metric")
    r = client.post("/v1/forecasts/fc-nope/adjustments", json={**unknown, "metric": "reach"}, headers=ORG)
    assert r.status_code == 404
    r = client.post(
        f"/v1/forecasts/{fid}/adjustments", json={**unknown, "metric": "reach"}, headers={"X-Org-Id": "other"}
    )
    assert r.status_code == 404  # another organisation's forecast is invisible


def _plan_body(**kw: Any) -> dict[str, Any]:
    creators = [{"creator_id": f"c{i}", "market": "US", "accounts": [
        {"platform": p, "followers": 10_000 * (i + 1) * (j + 1), "engagement_rate": 0.03, "cost_per_post_usd": 100}
        for j, p in enumerate(["instagram", "tiktok"])]} for i in range(3)]  # fmt: skip
    return {"window_start": "2026-12-01", "window_end": "2026-12-14", "creators": creators,
            "content": [{"content_id": "teaser", "format": "story"},
                        {"content_id": "launch", "format": "reel", "after": ["teaser"]}], **kw}  # fmt: skip


def test_plan_endpoint_returns_explained_schedule(client: TestClient) -> None:
    r = client.post("/v1/plans", json=_plan_body())
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["posts"]) == 6 and out["uplift_vs_naive"] > 0
    assert out["model_name"] == "forecast" and out["explanation"]


def test_plan_bad_input_is_4xx_with_reason(client: TestClient) -> None:
    r = client.post("/v1/plans", json=_plan_body(window_end="2026-11-01"))
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "window_end")
    bad_format = _plan_body(content=[{"content_id": "x", "format": "hologram"}])
    assert (
        client.post("/v1/plans", json=bad_format).json()["errors"][0]["field"].startswith("content.0.format")
    )
    body = _plan_body()
    body["creators"][0]["accounts"][0]["platform"] = "myspace"
    assert client.post("/v1/plans", json=body).status_code == 422


def test_predict_unknown_platform_is_422(client: TestClient) -> None:
    body = {"followers": 1000, "engagement_rate": 0.02, "platform": "myspace", "format": "post", "market": "US",
            "market_share": 0.5}  # fmt: skip
    r = client.post("/v1/forecasts/predict", json=body)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "platform")


def test_experiment_lifecycle_report_and_plot(client: TestClient) -> None:
    design = {"name": "cta", "metric": "clicked", "variants": ["a", "b"], "baseline": 0.1, "mde": 0.02}
    r = client.post("/v1/experiments", json=design, headers=ORG)
    assert r.status_code == 201, r.text
    exp = r.json()
    assert 3_800 <= exp["sample_size_per_arm"] <= 3_900
    four = client.post(
        "/v1/experiments", json={**design, "variants": ["a", "b", "c", "d"]}, headers=ORG
    ).json()
    assert four["sample_size_per_arm"] == 5_120  # three comparisons against control, as the report tests them
    rng = np.random.default_rng(0)
    exposures = [{"unit_id": f"u{i}", "variant": "ab"[i % 2]} for i in range(2_000)]
    assert client.post(f"/v1/experiments/{exp['experiment_id']}/observations", json={"items": exposures},
                       headers=ORG).json() == {"accepted": 2_000}  # fmt: skip
    outcomes = [
        {**e, "value": float(rng.random() < (0.1 if e["variant"] == "a" else 0.2))} for e in exposures
    ]
    client.post(f"/v1/experiments/{exp['experiment_id']}/observations", json={"items": outcomes}, headers=ORG)
    report = client.get(f"/v1/experiments/{exp['experiment_id']}/report", headers=ORG).json()
    assert report["arms"]["a"]["n"] == 1_000 and report["arms"]["a"]["exposures"] == 1_000
    assert report["verdict"]["most_likely_best"] == "b"
    assert report["verdict"]["comparisons"]["b"]["significant"]
    png = client.get(f"/v1/experiments/{exp['experiment_id']}/plot.png", headers=ORG)
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"


def test_experiment_bad_input_is_4xx(client: TestClient) -> None:
    one_arm = {"name": "x", "metric": "m", "variants": ["a"], "baseline": 0.1, "mde": 0.02}
    r = client.post("/v1/experiments", json=one_arm, headers=ORG)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "variants")
    no_sd = {**one_arm, "variants": ["a", "b"], "metric_type": "continuous", "baseline": 50}
    assert client.post("/v1/experiments", json=no_sd, headers=ORG).json()["errors"][0]["field"] == "sd"
    exp = client.post("/v1/experiments", json={**one_arm, "variants": ["a", "b"]}, headers=ORG).json()
    r = client.post(f"/v1/experiments/{exp['experiment_id']}/observations",
                    json={"items": [{"unit_id": "u", "variant": "zzz"}]}, headers=ORG)  # fmt: skip
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "items.variant")
    assert client.get(f"/v1/experiments/{exp['experiment_id']}/report", headers=ORG).status_code == 422
    assert client.get("/v1/experiments/exp-nope/report", headers=ORG).status_code == 404


def test_page_posts_endpoint_orders_quantiles_and_validates(client: TestClient) -> None:
    post = {"page_total_likes": 139_441, "type": "Photo", "category": 2, "post_month": 12, "post_weekday": 4,
            "post_hour": 3}  # fmt: skip
    r = client.post(
        "/v1/page-posts/forecast", json={"items": [post, {**post, "type": "Status", "paid": True}]}
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model_name"] == "page_posts"
    for row in out["forecasts"]:
        consumers = row["Lifetime Post Consumers"]
        assert 0 <= consumers["p10"] <= consumers["p50"] <= consumers["p90"]
    bad = client.post("/v1/page-posts/forecast", json={"items": [{**post, "type": "Reel"}]})
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "items.0.type")
