"""Live tracking: results per post against plan and interval, alerts below p10, bad results refused,
and messages re-allocated by Thompson sampling as results arrive."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from services.forecast.models import CampaignResult, ForecastOutcome, ForecastRecord, LineResult
from shared.errors import Invalid
from shared.events import CampaignResultReported
from shared.runtime import Runtime
from tests.forecast import campaignutil
from tests.forecast.campaignutil import CAMPAIGN, ORG, VARIANTS, apply, campaign_with_creators, staged

H = {"X-Org-Id": ORG}
URL = f"/v1/campaigns/{CAMPAIGN}"


@pytest.fixture
def plan(runtime: Runtime, client: TestClient) -> dict[str, Any]:
    campaign_with_creators(runtime, 12)
    response = client.post(f"{URL}/plan", json={"variants": VARIANTS}, headers=H)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _p(line: dict[str, Any], metric: str, q: str = "p50") -> float:
    return float(next(f[q] for f in line["forecast"] if f["metric"] == metric))


def _result(line: dict[str, Any], factor: float = 1.0, rid: str | None = None, **over: Any) -> dict[str, Any]:
    reach = _p(line, "reach") * factor
    return {"result_id": rid or f"res-{line['line_id']}", "campaign_id": CAMPAIGN, "creator_id": line["creator_id"],
            "platform": line["platform"], "format": line["format"], "market": line["market"], "reach": reach,
            "engagements": min(_p(line, "engagements") * factor, reach), "clicks": 40, "conversions": 2,
            "spend_usd": line["cost_usd"], "posted_at": "2026-12-09T19:00:00+00:00", "line_id": line["line_id"],
            "variant": line["variant_id"], **over}  # fmt: skip


def _event(line: dict[str, Any], factor: float = 1.0, rid: str | None = None) -> CampaignResultReported:
    body = _result(line, factor, rid)
    return CampaignResultReported.model_validate({**body, "posted_at": datetime(2026, 12, 9, 19, tzinfo=UTC)})


@pytest.mark.parametrize(("over", "field"), [
    ({"line_id": "l-999"}, "results.0.line_id"),
    ({"engagements": 10_000_000}, "results.0.engagements"),
    ({"clicks": 3, "conversions": 5}, "results.0.conversions"),
    ({"variant": "Z"}, "results.0.variant"),
    ({"creator_id": "cr-someone-else"}, "results.0.creator_id"),
])  # fmt: skip
def test_impossible_or_unknown_results_are_422_naming_the_field(
    runtime: Runtime, client: TestClient, plan: dict[str, Any], over: dict[str, Any], field: str
) -> None:
    r = client.post("/v1/results", json={"results": [_result(plan["lines"][0], **over)]}, headers=H)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    with runtime.db.transaction() as session:
        assert session.exec(select(CampaignResult)).all() == []  # nothing stored


def test_result_over_rest_carries_line_and_variant_onto_the_event(runtime: Runtime, client: TestClient,
                                                                  plan: dict[str, Any]) -> None:  # fmt: skip
    line = plan["lines"][0]
    r = client.post("/v1/results", json={"results": [_result(line)]}, headers=H)
    assert r.status_code == 202, r.text
    [event] = staged(runtime, "campaign.result_reported")
    assert (event["line_id"], event["variant"]) == (line["line_id"], line["variant_id"])


def test_post_below_p10_alerts_once_per_line_and_metric(runtime: Runtime, plan: dict[str, Any]) -> None:
    line = plan["lines"][0]
    apply(runtime, _event(line, factor=0.05, rid="r-1"))
    apply(runtime, _event(line, factor=0.04, rid="r-2"))  # a later, still poor reading of the same post
    alerts = staged(runtime, "campaign.post_below_forecast")
    assert sorted(a["metric"] for a in alerts) == ["engagements", "reach"]
    reach = next(a for a in alerts if a["metric"] == "reach")
    assert reach["line_id"] == line["line_id"] and reach["actual"] < reach["p10"] == _p(line, "reach", "p10")


def test_no_count_is_below_a_p10_under_one(runtime: Runtime, plan: dict[str, Any]) -> None:
    """0 conversions against a p10 of 0.04 is the likeliest outcome, not a miss to alert people about."""
    line = next(x for x in plan["lines"] if 0 < _p(x, "conversions", "p10") < 1 <= _p(x, "clicks", "p10"))
    apply(runtime, _event(line, factor=1.0, rid="r-1").model_copy(update={"clicks": 0, "conversions": 0}))
    assert [a["metric"] for a in staged(runtime, "campaign.post_below_forecast")] == ["clicks"]


def test_approved_plan_stores_each_lines_planned_content_and_its_result_is_judged_by_it(
    runtime: Runtime, client: TestClient, plan: dict[str, Any]
) -> None:
    assert client.post(f"{URL}/plan/approve", json={"why": "go"}, headers=H).status_code == 200
    # An Instagram line planned as anything but a post on a Wednesday, the approval-time forecast's guess.
    line = next(x for x in plan["lines"] if x["platform"] == "instagram"
                and (x["format"], date.fromisoformat(x["scheduled_on"]).weekday()) != ("post", 2))  # fmt: skip
    with runtime.db.transaction() as session:
        stored = session.exec(select(ForecastRecord).where(ForecastRecord.org_id == ORG,
                                                           ForecastRecord.line_id == line["line_id"])).one()  # fmt: skip
        planned = (line["format"], 19, date.fromisoformat(line["scheduled_on"]).weekday())
        assert (stored.format, stored.inputs["hour"], stored.inputs["weekday"]) == planned
        assert next(m["p50"] for m in stored.metrics if m["metric"] == "reach") == _p(line, "reach")
    listed = client.get(f"{URL}/forecasts", headers=H).json()
    assert [f["forecast_id"] for f in listed if f["line_id"] == line["line_id"]] == [stored.forecast_id]
    apply(runtime, _event(line, factor=2.0))
    with runtime.db.transaction() as session:
        outcome = session.exec(select(ForecastOutcome).where(ForecastOutcome.org_id == ORG)).one()
        assert outcome.forecast_id == stored.forecast_id
        assert outcome.errors["reach"]["model"]["p50"] == _p(line, "reach")


def test_approved_plan_stores_each_lines_category_niche_and_message_kind(
    runtime: Runtime, client: TestClient
) -> None:
    apply(runtime, campaignutil.opened())  # a beauty brief
    for i in range(6):  # even creators post about beauty, odd ones about cars
        apply(
            runtime, campaignutil.decided(i, "instagram", categories=["beauty"] if i % 2 == 0 else ["auto"])
        )
    variants = [{**VARIANTS[0], "kind": "offer"}, VARIANTS[1]]  # B declares no kind
    r = client.post(f"{URL}/plan", json={"variants": variants}, headers=H)
    assert r.status_code == 201, r.text
    lines = {x["line_id"]: x for x in r.json()["lines"]}
    assert {x["variant_id"] for x in lines.values()} == {"A", "B"}
    assert client.post(f"{URL}/plan/approve", json={"why": "go"}, headers=H).status_code == 200
    with runtime.db.transaction() as session:
        stored = session.exec(select(ForecastRecord).where(ForecastRecord.org_id == ORG,
                                                           col(ForecastRecord.line_id).is_not(None))).all()  # fmt: skip
    assert {s.line_id for s in stored} == set(lines)
    for s in stored:
        line = lines[str(s.line_id)]
        on_niche = int(line["creator_id"].removeprefix("cr-")) % 2 == 0
        kind = "offer" if line["variant_id"] == "A" else None
        assert (s.inputs["category"], s.inputs["on_niche"], s.inputs["message_kind"]) == (
            "beauty",
            on_niche,
            kind,
        )
        assert next(m["p50"] for m in s.metrics if m["metric"] == "reach") == _p(line, "reach")


def test_result_event_for_unknown_line_fails_for_the_dead_letter_queue(
    runtime: Runtime, plan: dict[str, Any]
) -> None:
    event = _event(plan["lines"][0]).model_copy(update={"line_id": "l-999"})
    with pytest.raises(Invalid, match="no line l-999"):
        apply(runtime, event)


def test_tracking_reports_spend_outcomes_costs_and_intervals(runtime: Runtime, client: TestClient,
                                                             plan: dict[str, Any]) -> None:  # fmt: skip
    a, b = plan["lines"][0], plan["lines"][1]
    apply(runtime, _event(a, factor=1.0))
    apply(runtime, _event(b, factor=0.05))
    t = client.get(f"{URL}/tracking", headers=H).json()
    assert t["posts_reported"] == 2 and t["posts_planned"] == len(plan["lines"])
    assert t["spend_usd"] == pytest.approx(a["cost_usd"] + b["cost_usd"])
    reach = t["metrics"]["reach"]
    assert reach["actual"] == pytest.approx(_p(a, "reach") + _p(b, "reach") * 0.05, rel=1e-3)
    assert reach["forecast_p50_of_posted"] == pytest.approx(_p(a, "reach") + _p(b, "reach"), rel=1e-3)
    assert t["cost_per_1k_reach_usd"] == pytest.approx(t["spend_usd"] / reach["actual"] * 1000, rel=1e-3)
    assert t["cost_per_conversion_usd"] == pytest.approx(t["spend_usd"] / 4, rel=1e-3)
    statuses = {x["line_id"]: x["metrics"]["reach"]["status"] for x in t["lines"] if x["posted"]}
    assert statuses == {a["line_id"]: "within p10-p90", b["line_id"]: "below p10"}
    assert {x["line_id"] for x in t["alerts"]} == {b["line_id"]}


def test_results_move_unposted_creators_toward_the_better_message(runtime: Runtime, client: TestClient,
                                                                  plan: dict[str, Any]) -> None:  # fmt: skip
    firsts: dict[str, dict[str, Any]] = {}
    for x in plan["lines"]:
        firsts.setdefault(x["creator_id"], x)
    by_variant: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    for x in firsts.values():
        by_variant[x["variant_id"]].append(x)
    posted = by_variant["A"][:3] + by_variant["B"][:3]
    for x in posted:
        apply(runtime, _event(x, factor=0.5 if x["variant_id"] == "A" else 2.0))
    latest = client.get(f"{URL}/plan", headers=H).json()
    assert latest["changed_by"] == "system" and "Thompson" in latest["change"]
    assert "Message B leads" in latest["why"] or "Message B won" in latest["why"]
    per_creator: dict[str, set[str]] = {}
    for x in latest["lines"]:
        per_creator.setdefault(x["creator_id"], set()).add(x["variant_id"])
    assert all(
        len(v) == 1 for v in per_creator.values()
    )  # re-allocated per creator: one audience, one message
    for x in posted:  # what went out keeps its message
        assert (
            next(y for y in latest["lines"] if y["line_id"] == x["line_id"])["variant_id"] == x["variant_id"]
        )
    with runtime.db.transaction() as session:
        assert len(session.exec(select(LineResult)).all()) == len(posted)


def test_posted_lines_keep_their_forecast_and_survive_their_creator_being_rejected(
    runtime: Runtime, client: TestClient, plan: dict[str, Any]
) -> None:
    from shared.events import LessonRecorded
    from tests.forecast.campaignutil import decided

    line = plan["lines"][0]
    apply(runtime, _event(line))
    apply(runtime, decided(int(line["creator_id"].split("-")[1]), line["platform"], decision="reject",
                           at=datetime(2026, 12, 10, tzinfo=UTC)))  # fmt: skip
    apply(runtime, LessonRecorded(lesson_id="les-1", campaign_id="cmp-old", scope="market", scope_value="RU",
                                  text="halve", rule="halve", metric="reach", multiplier=0.5, author="olga",
                                  recorded_at=datetime(2026, 12, 2, tzinfo=UTC)))  # fmt: skip
    r = client.post(f"{URL}/plan/insights/les-1/apply", json={"why": "proved"}, headers=H)
    assert r.status_code == 200, r.text
    new = r.json()
    kept = next(x for x in new["lines"] if x["line_id"] == line["line_id"])
    assert kept["posted"] and kept["forecast"] == line["forecast"]  # judged by what it went out with
    others = [x for x in new["lines"] if x["creator_id"] == line["creator_id"] and not x["posted"]]
    assert others == []  # the rejected creator's unposted lines are gone from the re-optimised plan


def test_a_fresh_proposal_keeps_what_already_went_out(
    runtime: Runtime, client: TestClient, plan: dict[str, Any]
) -> None:
    line = plan["lines"][0]
    apply(runtime, _event(line))
    r = client.post(
        f"{URL}/plan", json={"variants": VARIANTS, "replace": True, "why": "new brief"}, headers=H
    )
    assert r.status_code == 201, r.text
    new = r.json()
    kept = next(x for x in new["lines"] if x["line_id"] == line["line_id"])
    assert kept["posted"] and kept["forecast"] == line["forecast"]
    assert len({x["line_id"] for x in new["lines"]}) == len(new["lines"])
    assert new["changed_by"] == "admin:open" and "replacing version" in new["change"]
