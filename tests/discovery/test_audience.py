"""A creator's audience report and history: fraud's audience check (fraud.audience_checked) shows with its
date and confidence, the catalogue fills what no check measured, anomalies are marked on the series."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.discovery.models import Creator
from shared.events import (
    AnomalyDetected,
    AudienceBreakdown,
    AudienceChecked,
    Reason,
    ShareInterval,
)
from shared.runtime import Runtime
from tests.discovery.apputil import deliver, discovery_client

SAMPLED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _creator(followers: int, measured_on: str, er: float = 0.03) -> dict[str, Any]:
    return {
        "creator_id": "cr-1", "name": "Ana Lima", "home_market": "BR", "languages": ["pt"],
        "categories": ["beauty"], "measured_on": measured_on,
        "accounts": [{"platform": "instagram", "handle": "ana", "followers": followers, "engagement_rate": er}],
        "audience": [{"market": "BR", "audience_share": 0.7, "engagement_rate": er}],
        "top_audience_market": "PT", "audience_female_share": 0.8,
    }  # fmt: skip


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    c = discovery_client(runtime)
    assert (
        c.post("/v1/creators/bulk", json={"creators": [_creator(100_000, "2026-10-01")]}).status_code == 200
    )
    return c


def _breakdown(dimension: str, n: int, shares: dict[str, tuple[float, float, float]]) -> AudienceBreakdown:
    return AudienceBreakdown(
        dimension=dimension, sample_size=n,
        shares=[ShareInterval(value=v, share=s, low=lo, high=hi) for v, (s, lo, hi) in shares.items()],
    )  # fmt: skip


def _check(fake: float | None, measured_at: datetime = SAMPLED, check_id: str = "chk-1") -> AudienceChecked:
    return AudienceChecked(
        check_id=check_id, creator_id="cr-1", state="ready" if fake is not None else "low_confidence",
        sample_size=400, fake_share=fake, fake_share_low=0.55, fake_share_high=0.69,
        follower_types={"real": 0.3, "influencers": 0.05, "mass_followers": 0.05, "suspicious": 0.6},
        audience_quality_score=37 if fake is not None else None,
        breakdowns=[_breakdown("country", 400, {"BR": (0.6, 0.55, 0.65), "PT": (0.4, 0.35, 0.45)}),
                    _breakdown("language", 380, {"pt": (0.9, 0.87, 0.93), "en": (0.1, 0.07, 0.13)}),
                    _breakdown("age", 40, {"18-24": (0.5, 0.35, 0.65), "25-34": (0.5, 0.35, 0.65)})],
        model_name="fake_account", model_version="3", measured_at=measured_at, checked_at=measured_at,
    )  # fmt: skip


def test_audience_check_shows_in_report_with_date_and_confidence(
    client: TestClient, runtime: Runtime
) -> None:
    deliver(runtime, _check(0.62))
    report = client.get("/v1/creators/cr-1/audience").json()
    countries = report["countries"]
    assert countries["source"] == "fraud audience check" and countries["sample_size"] == 400
    assert countries["measured_at"] == "2026-11-20T09:30:00Z" and countries["confidence"] == "high"
    assert countries["shares"][0] == {"value": "BR", "share": 0.6, "low": 0.55, "high": 0.65}
    assert report["languages"]["shares"][0]["value"] == "pt" and report["languages"]["sample_size"] == 380
    age = report["age"]
    assert age["confidence"] == "low" and "40 followers" in age["note"]
    fake = report["fake_share"]
    assert (fake["estimate"], fake["low"], fake["high"]) == (0.62, 0.55, 0.69)
    assert fake["confidence"] == "high" and fake["audience_quality_score"] == 37
    assert fake["model"] == "fake_account:3" and fake["measured_at"] == "2026-11-20T09:30:00Z"
    assert report["follower_types"]["shares"][0] == {
        "value": "suspicious",
        "share": 0.6,
        "low": None,
        "high": None,
    }
    # The check measured no gender: the catalogue's import fills it, saying it has no sample size.
    gender = report["gender"]
    assert gender["source"] == "catalogue import" and gender["confidence"] == "unknown"
    assert gender["measured_at"] == "2026-10-01T00:00:00Z" and gender["shares"][0]["share"] == 0.8
    # The check is also the creator's ranking evidence.
    with runtime.db.transaction() as session:
        row = session.get(Creator, ("demo", "cr-1"))
        assert row is not None and (row.fake_share, row.audience_quality) == (0.62, 37)


def test_older_audience_check_never_replaces_a_newer_one(client: TestClient, runtime: Runtime) -> None:
    deliver(runtime, _check(0.62))
    deliver(runtime, _check(0.05, measured_at=datetime(2026, 9, 1, tzinfo=UTC), check_id="chk-0"))
    assert client.get("/v1/creators/cr-1/audience").json()["fake_share"]["estimate"] == 0.62


def test_low_confidence_check_says_so(client: TestClient, runtime: Runtime) -> None:
    deliver(runtime, _check(None))
    fake = client.get("/v1/creators/cr-1/audience").json()["fake_share"]
    assert fake["estimate"] is None and fake["confidence"] == "low" and "too few" in fake["note"]


def test_report_without_check_shows_catalogue_with_unknown_confidence(client: TestClient) -> None:
    report = client.get("/v1/creators/cr-1/audience").json()
    countries = report["countries"]
    assert countries["source"] == "catalogue import" and countries["sample_size"] is None
    assert [s["value"] for s in countries["shares"]] == ["BR", "PT"]
    assert (
        countries["shares"][1]["share"] is None
        and "PT named as the top audience country" in countries["note"]
    )
    assert report["fake_share"]["source"] is None and report["fake_share"]["note"] == "no audience check yet"
    assert "content languages" in report["languages"]["note"]


def test_report_of_unknown_or_other_orgs_creator_is_404(client: TestClient) -> None:
    assert client.get("/v1/creators/nobody/audience").status_code == 404
    assert client.get("/v1/creators/cr-1/audience", headers={"X-Org-Id": "other"}).status_code == 404
    assert client.get("/v1/creators/cr-1/history", headers={"X-Org-Id": "other"}).status_code == 404


def test_history_series_carries_anomaly_marker(client: TestClient, runtime: Runtime) -> None:
    later = _creator(180_000, "2026-11-01", er=0.011)
    assert client.post("/v1/creators/bulk", json={"creators": [later]}).json()["updated"] == 1
    reason = Reason(code="follower_spike", text="followers +80% in one month", value=0.8, direction=-1)
    deliver(runtime, AnomalyDetected(anomaly_id="an-7", creator_id="cr-1", kind="follower_spike", severity=0.7,
                                      reasons=[reason], detected_at=datetime(2026, 11, 2, 8, tzinfo=UTC)))  # fmt: skip
    out = client.get("/v1/creators/cr-1/history").json()
    (series,) = out["series"]
    assert series["platform"] == "instagram"
    assert [(p["measured_on"], p["followers"]) for p in series["points"]] == [
        ("2026-10-01", 100_000), ("2026-11-01", 180_000)
    ]  # fmt: skip
    assert series["points"][1]["engagement_rate"] == 0.011
    (marker,) = out["anomalies"]
    assert (marker["anomaly_id"], marker["detected_on"], marker["status"]) == ("an-7", "2026-11-02", "open")
    chart = client.get(out["chart"])
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.count("<polyline") == 2 and 'class="anomaly"' in chart.text
    assert "follower_spike" in chart.text and "followers +80% in one month" in chart.text
