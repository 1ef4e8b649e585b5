"""Lessons and trend calls on the plan: shown on the lines in their scope, applied by a person as a
recorded adjustment (plan and approvals' forecasts), never twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.forecast.models import ForecastAdjustment
from shared.events import LessonRecorded, TrendCalled
from shared.runtime import Runtime
from tests.forecast.campaignutil import CAMPAIGN, ORG, VARIANTS, apply, campaign_with_creators

H = {"X-Org-Id": ORG}
URL = f"/v1/campaigns/{CAMPAIGN}/plan"
AT = datetime(2026, 12, 2, tzinfo=UTC)


def _lesson(**over: Any) -> LessonRecorded:
    body = {"lesson_id": "les-1", "campaign_id": "cmp-old", "scope": "market", "scope_value": "RU",
            "text": "RU audiences over-forecast on reach", "rule": "RU: halve reach forecasts", "metric": "reach",
            "multiplier": 0.5, "author": "olga", "recorded_at": AT, **over}  # fmt: skip
    return LessonRecorded.model_validate(body)


def _trend(**over: Any) -> TrendCalled:
    body = {"trend_id": "tr-1", "market": "RU", "platform": "tiktok", "topic_or_format": "reel", "direction": "up",
            "confidence": 0.5, "expires_on": date(2099, 1, 1), "reason": "short tutorials are taking off",
            "author": "marat", "called_at": AT, **over}  # fmt: skip
    return TrendCalled.model_validate(body)


@pytest.fixture
def plan(runtime: Runtime, client: TestClient) -> dict[str, Any]:
    campaign_with_creators(runtime, 6)
    r = client.post(URL, json={"variants": VARIANTS}, headers=H)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _reach(line: dict[str, Any]) -> float:
    return float(next(f["p50"] for f in line["forecast"] if f["metric"] == "reach"))


def test_lesson_shows_on_lines_in_scope_and_applies_as_the_persons_adjustment(
    runtime: Runtime, client: TestClient, plan: dict[str, Any]
) -> None:
    apply(runtime, _lesson())
    apply(runtime, _lesson(lesson_id="les-kz", scope_value="KZ"))
    lines = client.get(URL, headers=H).json()["lines"]
    assert all([n["id"] for n in x["notes"]] == ["les-1"] for x in lines)  # every line is in RU, none in KZ
    assert lines[0]["notes"][0]["rule"] == "RU: halve reach forecasts" and not lines[0]["notes"][0]["applied"]
    kept = lines[0]
    client.patch(f"{URL}/lines/{kept['line_id']}", json={"locked": True}, headers=H)
    r = client.post(f"{URL}/insights/les-1/apply", json={"why": "last campaign proved it"}, headers=H)
    assert r.status_code == 200, r.text
    new = r.json()
    [adj] = new["adjustments"]
    assert (adj["insight_id"], adj["author"], adj["metric"], adj["multiplier"]) == (
        "les-1",
        "admin:open",
        "reach",
        0.5,
    )
    after = next(x for x in new["lines"] if x["line_id"] == kept["line_id"])
    assert _reach(after) == pytest.approx(_reach(kept) * 0.5, abs=0.2)
    assert after["notes"][0]["applied"] and "applied lesson les-1" in new["change"]
    with runtime.db.transaction() as session:
        rows = session.exec(select(ForecastAdjustment)).all()
        assert rows and {(a.insight_id, a.author, a.source, a.multiplier) for a in rows} == {
            ("les-1", "admin:open", "insight", 0.5)
        }  # the approvals' forecasts, for the feedback report
    again = client.post(f"{URL}/insights/les-1/apply", json={}, headers=H)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "insight_id"


def test_trend_call_matches_platform_and_format_and_defaults_to_a_confidence_scaled_nudge(
    runtime: Runtime, client: TestClient, plan: dict[str, Any]
) -> None:
    apply(runtime, _trend())
    apply(runtime, _trend(trend_id="tr-old", expires_on=date(2020, 1, 1)))
    lines = client.get(URL, headers=H).json()["lines"]
    for x in lines:
        expected = ["tr-1"] if (x["platform"], x["format"]) == ("tiktok", "reel") else []
        assert [n["id"] for n in x["notes"]] == expected
    r = client.post(f"{URL}/insights/tr-1/apply", json={"why": "trust Marat"}, headers=H)
    assert r.status_code == 200, r.text
    assert r.json()["adjustments"][0]["multiplier"] == pytest.approx(1.1)
    expired = client.post(f"{URL}/insights/tr-old/apply", json={}, headers=H)
    assert expired.status_code == 422 and expired.json()["errors"][0]["field"] == "insight_id"


def test_lesson_without_a_rule_needs_a_multiplier(
    runtime: Runtime, client: TestClient, plan: dict[str, Any]
) -> None:
    apply(runtime, _lesson(metric=None, multiplier=None, rule=""))
    r = client.post(f"{URL}/insights/les-1/apply", json={}, headers=H)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "multiplier"
    ok = client.post(
        f"{URL}/insights/les-1/apply", json={"multiplier": 0.8, "metric": "engagements"}, headers=H
    )
    assert ok.status_code == 200 and ok.json()["adjustments"][0]["metric"] == "engagements"


def test_unknown_insight_is_404(client: TestClient, plan: dict[str, Any]) -> None:
    r = client.post(f"{URL}/insights/nope/apply", json={}, headers=H)
    assert r.status_code == 404


def test_feedback_report_says_whether_following_the_lesson_paid_off(
    runtime: Runtime, client: TestClient, plan: dict[str, Any]
) -> None:
    from shared.events import CampaignResultReported

    apply(runtime, _lesson())
    assert client.post(f"{URL}/insights/les-1/apply", json={"why": "proved"}, headers=H).status_code == 200
    line = client.get(URL, headers=H).json()["lines"][0]
    apply(runtime, CampaignResultReported(
        result_id="r-1", campaign_id=CAMPAIGN, creator_id=line["creator_id"], platform=line["platform"],
        format=line["format"], market=line["market"], reach=_reach(line) * 0.1, engagements=10, clicks=1,
        conversions=0, posted_at=AT, line_id=line["line_id"], variant=line["variant_id"]))  # fmt: skip
    [row] = [r for r in client.get("/v1/feedback/insights", headers=H).json() if r["metric"] == "reach"]
    assert (row["insight_id"], row["n"], row["applied_by"]) == ("les-1", 1, ["admin:open"])
    assert row["adjusted_closer_share"] == 1.0  # halving was right: the post reached far less than forecast
