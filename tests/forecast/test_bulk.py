"""The columnar bulk path gives the per-row figures and names bad columns."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.forecast.features import PlannedContent, feature_columns, feature_matrix
from shared.vocabulary import SHORT_VIDEO_PLATFORMS

SAID = ("category", "on_niche", "message_kind")  # optional content columns: values or nulls

# What the content is about cycles with periods prime to each other, so every mix (said or not) appears.
CATEGORY, NICHE, KIND = (
    [None, "beauty", "finance", "humor", "auto"],
    [None, True, False],
    [None, "offer", "product", "story"],
)
PLANS = [
    PlannedContent(followers=f, engagement_rate=er, per_view=p in SHORT_VIDEO_PLATFORMS, platform=p, format=fmt,
                   market=m, market_share=0.4, hour=h, weekday=3, paid=paid, category=CATEGORY[i % 5],
                   on_niche=NICHE[i % 3], message_kind=KIND[i % 4])
    for i, (f, er, p, fmt, m, h, paid) in enumerate(itertools.product(
        [0, 5_000, 2_000_000], [0.0, 0.04], ["instagram", "tiktok", "vk"], ["post", "reel", "stream"], ["US", "RU"],
        [8, 20], [False, True]))
]  # fmt: skip


def _columns(plans: list[PlannedContent]) -> dict[str, list[object]]:
    return {
        "followers": [p.followers for p in plans], "engagement_rate": [p.engagement_rate for p in plans],
        "platform": [p.platform for p in plans], "format": [p.format for p in plans],
        "market": [p.market for p in plans], "market_share": [p.market_share for p in plans],
        "hour": [p.hour for p in plans], "weekday": [p.weekday for p in plans], "paid": [p.paid for p in plans],
        "category": [p.category for p in plans], "on_niche": [p.on_niche for p in plans],
        "message_kind": [p.message_kind for p in plans],
    }  # fmt: skip


def test_feature_columns_equal_feature_matrix() -> None:
    c = {k: np.asarray(v, dtype=object if k in SAID else None) for k, v in _columns(PLANS).items()}
    x = feature_columns(c["followers"], c["engagement_rate"], c["platform"], c["format"], c["market"],
                        c["market_share"], c["hour"], c["weekday"], c["paid"], c["category"], c["on_niche"],
                        c["message_kind"])  # fmt: skip
    np.testing.assert_allclose(x, feature_matrix(PLANS), rtol=1e-6)


def test_feature_columns_without_content_columns_equal_content_not_said() -> None:
    unsaid = [replace(p, category=None, on_niche=None, message_kind=None) for p in PLANS]
    c = {k: np.asarray(v) for k, v in _columns(PLANS).items() if k not in SAID}
    x = feature_columns(c["followers"], c["engagement_rate"], c["platform"], c["format"], c["market"],
                        c["market_share"], c["hour"], c["weekday"], c["paid"])  # fmt: skip
    np.testing.assert_allclose(x, feature_matrix(unsaid), rtol=1e-6)


def test_columns_endpoint_matches_batch_endpoint(client: TestClient) -> None:
    plans = PLANS[:40]
    cols = client.post("/v1/forecasts/predict/columns", json=_columns(plans)).json()
    items = [{k: v[i] for k, v in _columns(plans).items()} for i in range(len(plans))]
    batch = client.post("/v1/forecasts/predict/batch", json={"items": items}).json()
    assert cols["rows"] == len(plans) and cols["model_name"] == "forecast"
    for i, row in enumerate(batch):
        for m in row["metrics"]:
            for q in ("p10", "p50", "p90"):
                assert cols["metrics"][m["metric"]][q][i] == pytest.approx(m[q], rel=1e-3, abs=0.11)


def test_columns_endpoint_names_the_bad_column(client: TestClient) -> None:
    body = _columns(PLANS[:3])
    body["category"] = ["beauty", None, "knitting"]
    r = client.post("/v1/forecasts/predict/columns", json=body)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "category")
    assert "category[2]" in r.json()["detail"]
    body = _columns(PLANS[:3])
    body["platform"] = ["instagram", "myspace", "vk"]
    r = client.post("/v1/forecasts/predict/columns", json=body)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "platform")
    assert "platform[1]" in r.json()["detail"]
    body = _columns(PLANS[:3])
    body["market"] = ["US"]
    assert client.post("/v1/forecasts/predict/columns", json=body).json()["errors"][0]["field"] == "market"
