"""The campaign record in review: stages forward only and idempotent, close once, lessons and trend calls
authored by the principal and shown where they apply, brand routing, alerts, the portfolio's filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.review.models import ReviewTask, TrendCall
from shared.bus.outbox import PendingMessage
from shared.bus.tables import OutboxMessage
from shared.events import (
    AnomalyDetected,
    CampaignCloseRequested,
    CampaignRetrospectiveReady,
    CampaignStageChanged,
    Contribution,
    LessonRecorded,
    PostBelowForecast,
    Reason,
    RetrospectiveLine,
    TrendCalled,
)
from shared.identity.keys import Principal
from shared.orgs import current_principal
from shared.webhooks import hub
from shared.webhooks.models import WebhookDelivery
from tests.review import campaign_helpers as ch
from tests.review import helpers

STRATEGIST = Principal(helpers.ORG, "strategist", "k-maria", "maria@brand")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from ch.client_for(tmp_path, STRATEGIST)


@pytest.fixture
def bus(client: TestClient) -> ch.Bus:
    return ch.Bus(ch.runtime_of(client))


def _stages(client: TestClient, campaign_id: str = "cmp-1") -> list[str]:
    return [e.stage for e in helpers.events(ch.runtime_of(client).db)
            if isinstance(e, CampaignStageChanged) and e.campaign_id == campaign_id]  # fmt: skip


def _to_review(client: TestClient, bus: ch.Bus, campaign_id: str = "cmp-1", brand: str = "SolBright") -> str:
    """Open a campaign and shortlist one creator whom people must review; returns the task id."""
    helpers.add_reviewer(ch.runtime_of(client).db, "ann")
    assert bus.send(ch.opened(campaign_id, brand=brand)) == "applied"
    sl = helpers.shortlist([helpers.entry(1, "cr-1", 0.5, 0.1)], campaign_id=campaign_id)
    assert bus.send(sl.model_copy(update={"brand": brand})) == "applied"
    (task,) = client.get("/v1/tasks", params={"campaign_id": campaign_id}).json()
    return str(task["task_id"])


def _approve_as_ann(client: TestClient, task_id: str) -> Any:
    """Ann decides with her own credentials: a decision is recorded as the caller, never a body name."""
    overrides = client.app.dependency_overrides  # type: ignore[attr-defined]
    saved = overrides[current_principal]
    overrides[current_principal] = lambda: Principal(helpers.ORG, "reviewer", "k-ann", "ann")
    try:
        return client.post(f"/v1/tasks/{task_id}/decision", json={"decision": "approve"})
    finally:
        overrides[current_principal] = saved


def test_stage_moves_forward_only_and_redelivery_changes_nothing(client: TestClient, bus: ch.Bus) -> None:
    task_id = _to_review(client, bus)
    assert _stages(client) == ["brief", "shortlist", "review"]
    r = _approve_as_ann(client, task_id)
    assert r.status_code == 201
    assert _stages(client)[-1] == "planning"
    proposal = bus.envelope(ch.plan("cmp-1", ["cr-1"]))
    assert bus.deliver(proposal) == "applied"
    assert bus.send(ch.plan("cmp-1", ["cr-1"], approved=True, who="maria@brand")) == "applied"
    assert _stages(client) == ["brief", "shortlist", "review", "planning", "live"]
    # The same record again is a duplicate; late events under new ids are recorded but never move back.
    assert bus.deliver(proposal) == "duplicate"
    assert bus.send(ch.opened("cmp-1")) == "applied"
    assert bus.send(ch.plan("cmp-1", ["cr-1"])) == "applied"
    assert bus.send(ch.result("cmp-1", "cr-1", 0, 9_000)) == "applied"
    assert _stages(client) == ["brief", "shortlist", "review", "planning", "live"]
    got = client.get("/v1/campaigns/cmp-1").json()
    assert got["campaign"]["stage"] == "live" and got["plan"]["approved"] is True
    live = next(e for e in got["timeline"] if e["text"].startswith("planning -> live"))
    assert live["who"] == "maria@brand"  # a person approved the plan: the move is theirs
    assert not bus.publisher.sent  # nothing dead-lettered


def test_events_out_of_order_build_the_same_record(client: TestClient, bus: ch.Bus) -> None:
    assert bus.send(ch.result("cmp-9", "cr-1", 0, 5_000)) == "applied"  # results before anything else
    assert bus.send(ch.opened("cmp-9", brand="Acme")) == "applied"
    got = client.get("/v1/campaigns/cmp-9").json()["campaign"]
    assert (got["stage"], got["brand"], got["owner"], got["spend_usd"]) == (
        "live",
        "Acme",
        "maria@brand",
        1000,
    )
    assert _stages(client, "cmp-9") == ["live"]  # brief is not announced once the campaign is past it


def test_close_twice_publishes_one_close_as_the_principal(client: TestClient, bus: ch.Bus) -> None:
    _to_review(client, bus)
    first = client.post("/v1/campaigns/cmp-1/close", json={"reason": "season over"})
    again = client.post("/v1/campaigns/cmp-1/close", json={"reason": "again"})
    assert first.status_code == again.status_code == 200
    assert (first.json()["closed"], again.json()["closed"]) == (True, False)
    assert again.json()["closed_by"] == "maria@brand"
    events = helpers.events(ch.runtime_of(client).db)
    closes = [e for e in events if isinstance(e, CampaignCloseRequested)]
    assert [(c.closed_by, c.reason) for c in closes] == [("maria@brand", "season over")]
    # Our own close comes back from the lifecycle topic: nothing more happens.
    assert bus.send(closes[0]) == "applied"
    assert _stages(client).count("closed") == 1
    assert bus.send(ch.result("cmp-1", "cr-1", 0, 1_000)) == "applied"
    assert client.get("/v1/campaigns/cmp-1").json()["campaign"]["stage"] == "closed"
    assert client.post("/v1/campaigns/nope/close").status_code == 404


def test_close_needs_a_strategist(tmp_path: Path) -> None:
    reviewer = Principal(helpers.ORG, "reviewer", "k-ann", "ann@tandem")
    for c in ch.client_for(tmp_path, reviewer):
        assert c.post("/v1/campaigns/cmp-1/close").status_code == 403


def test_lesson_and_trend_are_authored_by_the_principal_never_the_body(
    client: TestClient, bus: ch.Bus
) -> None:
    bus.send(ch.opened("cmp-1"))
    lesson = {"campaign_id": "cmp-1", "scope": "market", "scope_value": "US", "text": "US skincare: reels beat posts",
              "metric": "reach", "multiplier": 0.8, "rule": "US beauty: reach x0.8"}  # fmt: skip
    refused = client.post("/v1/lessons", json={**lesson, "author": "mallory"})
    assert refused.status_code == 422 and "author" in str(refused.json())
    made = client.post("/v1/lessons", json=lesson)
    assert made.status_code == 201 and made.json()["author"] == "maria@brand"
    trend = {"market": "US", "platform": "instagram", "topic_or_format": "reel", "direction": "up",
             "confidence": 0.7, "expires_on": str(date.today() + timedelta(days=20)), "reason": "shelfie reels"}  # fmt: skip
    assert client.post("/v1/trends", json={**trend, "author": "mallory"}).status_code == 422
    assert client.post("/v1/trends", json=trend).json()["author"] == "maria@brand"
    events = helpers.events(ch.runtime_of(client).db)
    assert [e.author for e in events if isinstance(e, LessonRecorded | TrendCalled)] == ["maria@brand"] * 2
    assert client.post("/v1/lessons", json={**lesson, "campaign_id": "nope"}).status_code == 404
    bad = client.post("/v1/lessons", json={**lesson, "multiplier": None})
    assert bad.status_code == 422 and "metric and multiplier" in bad.text
    past = client.post("/v1/trends", json={**trend, "expires_on": "2020-01-01"})
    assert past.status_code == 422 and "expires_on" in past.text


def test_lessons_trends_and_brand_values_show_on_the_matching_task(client: TestClient, bus: ch.Bus) -> None:
    bus.send(ch.opened("cmp-old", markets=["US"]))
    for scope, value, text in (("market", "US", "US: ask for raw footage"), ("market", "RU", "RU only"),
                               ("creator", "cr-1", "cr-1 posts late"), ("format", "reel", "plans only")):  # fmt: skip
        body = {"campaign_id": "cmp-old", "scope": scope, "scope_value": value, "text": text}
        assert client.post("/v1/lessons", json=body).status_code == 201
    trend = {"market": "US", "topic_or_format": "reel", "direction": "up", "confidence": 0.6,
             "expires_on": str(date.today() + timedelta(days=5)), "reason": "reels rising"}  # fmt: skip
    client.post("/v1/trends", json=trend)
    client.post("/v1/trends", json={**trend, "market": "RU", "reason": "not here"})
    task_id = _to_review(client, bus)
    ctx = client.get(f"/v1/tasks/{task_id}/context").json()
    assert sorted(x["text"] for x in ctx["lessons"]) == ["US: ask for raw footage", "cr-1 posts late"]
    assert [t["reason"] for t in ctx["trends"]] == ["reels rising"]
    assert (
        ctx["checklist"]["brand_values"]
        == "Does their content live SolBright's values: 'honest claims', 'sun safety'?"
    )
    page = client.get("/v1/campaigns/cmp-1").json()
    assert "plans only" in [x["text"] for x in page["lessons"]]
    # The task page shows them too, and the brand's values as the checklist's first prompt.
    ann = {"name": "Ann", "markets": ["US"], "daily_capacity": 50, "password": "correct-horse-42"}
    assert client.put("/v1/reviewers/ann", json=ann).status_code == 200
    login = {"reviewer_id": "ann", "password": "correct-horse-42", "org_id": helpers.ORG}
    assert client.post("/app/login", data=login, follow_redirects=False).status_code == 303
    html = client.get(f"/app/tasks/{task_id}").text
    assert "US: ask for raw footage" in html and "reels rising" in html and "RU only" not in html
    assert "Does their content live SolBright&#39;s values" in html


def test_brand_settings_route_the_brands_shortlists(client: TestClient, bus: ch.Bus) -> None:
    """The shortlist names its brand, so the brand's settings apply in the normal flow."""
    put = client.put(
        "/v1/settings/brand/SolBright",
        json={"auto_approve_min_match": 0.4, "first_time_to_people": False, "audit_sample_rate": 0},
    )
    assert put.status_code == 200
    helpers.add_reviewer(ch.runtime_of(client).db, "ann")
    for cid, brand in (("cmp-a", "SolBright"), ("cmp-b", "Other")):
        bus.send(ch.opened(cid, brand=brand))
        sl = helpers.shortlist([helpers.entry(1, "cr-1", 0.5, 0.1)], campaign_id=cid)
        assert bus.send(sl.model_copy(update={"brand": brand})) == "applied"
    routes = {cid: [t["route"] for t in client.get("/v1/tasks", params={"campaign_id": cid}).json()]
              for cid in ("cmp-a", "cmp-b")}  # fmt: skip
    assert routes == {"cmp-a": ["auto"], "cmp-b": ["human"]}
    assert _stages(client, "cmp-a")[-1] == "planning"  # every finalist decided at once


def test_alerts_retrospective_and_the_decisions_behind_each_line(client: TestClient, bus: ch.Bus) -> None:
    task_id = _to_review(client, bus)
    _approve_as_ann(client, task_id)
    bus.send(ch.plan("cmp-1", ["cr-1", "cr-2"], approved=True))
    bus.send(ch.result("cmp-1", "cr-1", 0, 3_000))
    now = datetime.now(UTC)
    below = PostBelowForecast(campaign_id="cmp-1", line_id="l-0", creator_id="cr-1", metric="reach",
                              actual=3_000, p10=5_000, p50=10_000, detected_at=now)  # fmt: skip
    assert bus.send(below) == bus.send(below.model_copy()) == "applied"  # the same alert twice is one alert
    anomaly = AnomalyDetected(anomaly_id="an-1", creator_id="cr-1", kind="engagement_spike", severity=0.8,
                              reasons=[Reason(code="spike", text="likes x9 in an hour")], detected_at=now)  # fmt: skip
    bus.send(anomaly)
    bus.send(AnomalyDetected(anomaly_id="an-2", creator_id="cr-zzz", kind="spike", severity=0.5, reasons=[],
                             detected_at=now))  # fmt: skip
    retro = CampaignRetrospectiveReady(
        campaign_id="cmp-1", metric="reach", forecast_total=20_000, actual_total=3_000, spend_usd=1_000,
        contributions=[Contribution(dimension="creator", value="cr-1", forecast=10_000, actual=3_000, miss=-7_000,
                                    share_of_miss=0.41)],
        lines=[RetrospectiveLine(line_id="l-0", creator_id="cr-1", platform="instagram", format="reel", market="US",
                                 variant_id="A", forecast_p10=5_000, forecast_p50=10_000, forecast_p90=16_000,
                                 actual=3_000)], computed_at=now)  # fmt: skip
    bus.send(retro)
    got = client.get("/v1/campaigns/cmp-1").json()
    assert sorted(a["kind"] for a in got["alerts"]) == ["anomaly", "below_forecast"]
    below_text = next(a["text"] for a in got["alerts"] if a["kind"] == "below_forecast")
    assert below_text == "Cr-1, line l-0: reach 3,000 below p10 5,000 (p50 10,000)"  # people read names
    assert (got["campaign"]["open_anomalies"], got["campaign"]["open_alerts"]) == (1, 2)
    assert got["retrospective"]["contributions"][0]["value"] == "cr-1"
    (line,) = got["retrospective"]["lines"]
    assert (line["line_id"], line["decided_by"], line["automated"]) == ("l-0", "ann", False)
    (decision,) = got["decisions"]
    assert (decision["decision"], decision["decided_by"], decision["automated"]) == ("approve", "ann", False)
    assert decision["actual_vs_forecast"] == 0.3
    kinds = [e["kind"] for e in got["timeline"]]
    assert kinds[0] == "brief" and kinds[-1] == "retrospective" and kinds.count("alert") == 2
    t = got["tracking"]
    assert (t["totals"]["reach"], t["spend_usd"], t["cost_per_1k_reach"]) == (3_000, 1_000, 333.33)
    assert [p["actual"] for p in t["posts"]] == [3_000, None]


def test_portfolio_filters_pages_and_figures(client: TestClient, bus: ch.Bus) -> None:
    specs = [("cmp-a", "SolBright", "volume", ["US"]), ("cmp-b", "SolBright", "strategic", ["RU", "KZ"]),
             ("cmp-c", "Acme", "volume", ["RU"])]  # fmt: skip
    for cid, brand, tier, markets in specs:
        bus.send(ch.opened(cid, brand=brand, tier=tier, markets=markets, budget_usd=4_000))
    bus.send(ch.plan("cmp-a", ["cr-1", "cr-2"], approved=True))
    bus.send(ch.result("cmp-a", "cr-1", 0, 15_000, spend=1_000))
    bus.send(ch.result("cmp-a", "cr-2", 1, 5_000, spend=1_000))

    def ids(**params: object) -> list[str]:
        got = client.get("/v1/campaigns", params=params)
        assert got.status_code == 200, got.text
        return sorted(c["campaign_id"] for c in got.json()["campaigns"])

    assert ids() == ["cmp-a", "cmp-b", "cmp-c"]
    assert ids(brand="SolBright") == ["cmp-a", "cmp-b"]
    assert ids(market="RU") == ["cmp-b", "cmp-c"]
    assert ids(tier="strategic") == ["cmp-b"]
    assert ids(stage="live") == ["cmp-a"]
    assert ids(brand="SolBright", market="RU", tier="volume") == []
    page = client.get("/v1/campaigns", params={"page_size": 2, "page": 2}).json()
    assert (page["total"], len(page["campaigns"]), page["brands"]) == (3, 1, ["Acme", "SolBright"])
    a = next(c for c in client.get("/v1/campaigns").json()["campaigns"] if c["campaign_id"] == "cmp-a")
    assert (a["spend_usd"], a["spend_vs_budget"], a["actual"], a["forecast"]) == (2_000, 0.5, 20_000, 20_000)
    assert a["results_vs_forecast"] == 1.0 and a["results"] == 2
    bad = client.get("/v1/campaigns", params={"stage": "launched"})
    assert bad.status_code == 422 and "stage" in bad.text


def test_overdue_and_backlog_count_on_the_portfolio(client: TestClient, bus: ch.Bus) -> None:
    _to_review(client, bus)
    with ch.runtime_of(client).db.transaction() as s:
        for t in s.exec(select(ReviewTask)):
            t.due_at = datetime.now(UTC) - timedelta(hours=1)
            s.add(t)
    (row,) = client.get("/v1/campaigns").json()["campaigns"]
    assert (row["tasks"], row["backlog"], row["overdue_tasks"], row["reviewers"]) == (1, 1, 1, 1)


def test_trend_calls_are_scored_and_authors_ranked(client: TestClient, bus: ch.Bus) -> None:
    bus.send(ch.opened("cmp-t"))
    bus.send(ch.plan("cmp-t", [f"cr-{i}" for i in range(6)], approved=True))
    for i in range(6):  # every post beat its forecast p50 (10,000) by 40%
        bus.send(ch.result("cmp-t", f"cr-{i}", i, 14_000, days_ago=1))
    called = datetime.now(UTC) - timedelta(days=3)
    calls = [("t-up", "ann@tandem", "up", 0.8), ("t-down", "bob@tandem", "down", 0.9),
             ("t-ru", "bob@tandem", "up", 0.5)]  # fmt: skip
    with ch.runtime_of(client).db.transaction() as s:
        for trend_id, author, direction, confidence in calls:
            s.add(TrendCall(trend_id=trend_id, org_id=helpers.ORG, market="RU" if trend_id == "t-ru" else "US",
                            platform="instagram", topic_or_format="reel", direction=direction, confidence=confidence,
                            expires_on=date.today() + timedelta(days=30), reason="r", author=author,
                            called_at=called))  # fmt: skip
    scored = {t["trend_id"]: t for t in client.get("/v1/trends").json()}
    assert (scored["t-up"]["status"], scored["t-up"]["results"], scored["t-up"]["actual_vs_forecast"]) == (
        "hit",
        6,
        1.4,
    )
    assert scored["t-down"]["status"] == "miss" and scored["t-ru"]["status"] == "open"
    report = client.get("/v1/feedback/trends").json()
    assert [(r["author"], r["scored"], r["hit_rate"]) for r in report] == [
        ("ann@tandem", 1, 1.0),
        ("bob@tandem", 1, 0.0),
    ]
    assert report[0]["brier"] == pytest.approx(0.04)
    assert client.get("/v1/feedback/people").json()["trend_calls"] == report  # in the feedback report too


def test_lesson_rules_are_scored_on_later_results(client: TestClient, bus: ch.Bus) -> None:
    bus.send(ch.opened("cmp-l"))
    halve = {"campaign_id": "cmp-l", "scope": "market", "scope_value": "US", "text": "US reach is overestimated",
             "metric": "reach", "multiplier": 0.5}  # fmt: skip
    client.post("/v1/lessons", json=halve)
    client.post("/v1/lessons", json={**halve, "multiplier": 2.0, "text": "US reach is underestimated"})
    bus.send(ch.plan("cmp-l", [f"cr-{i}" for i in range(4)], approved=True))
    for i in range(4):  # results came in at half the forecast p50
        bus.send(ch.result("cmp-l", f"cr-{i}", i, 5_000))
    report = {r["rule"]: r for r in client.get("/v1/feedback/lessons").json()}
    assert (report["reach x 0.5"]["paid_off"], report["reach x 0.5"]["with_rule_mdape"]) == (True, 0.0)
    assert report["reach x 2"]["paid_off"] is False and report["reach x 2"]["results"] == 4
    people = client.get("/v1/feedback/people").json()
    assert sorted(r["paid_off"] for r in people["lessons"]) == [False, True]


def test_each_stage_move_becomes_a_partner_webhook(client: TestClient, bus: ch.Bus) -> None:
    """The relay fans published events out to subscribed endpoints: one delivery per stage change."""
    runtime = ch.runtime_of(client)
    assert runtime.idempotency is not None
    edge = runtime.idempotency.db
    hub.new_endpoint(edge, helpers.ORG, "http://127.0.0.1:9/hooks", [CampaignStageChanged.event_type])
    _to_review(client, bus)
    with runtime.db.transaction() as s:
        rows = [
            PendingMessage(m.id or 0, m.topic, m.key, m.value, m.headers)
            for m in s.exec(select(OutboxMessage))
        ]
    assert hub.fan_out(edge, rows) == 3  # brief, shortlist, review; tasks and other events are not subscribed
    with edge.transaction() as s:
        stages = [orjson.loads(d.body)["data"]["stage"] for d in s.exec(select(WebhookDelivery))]
    assert sorted(stages) == ["brief", "review", "shortlist"]
