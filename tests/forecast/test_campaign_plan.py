"""The campaign plan made together: proposal from approved creators, edits, refusals, versions, approval."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.forecast.campaigns import api as campaigns_api
from services.forecast.config import ForecastSettings
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.errors import install_error_handlers
from shared.model_registry import ModelRegistry
from shared.onnx_model import ModelSlot
from shared.runtime import Runtime
from tests.forecast.campaignutil import (
    CAMPAIGN,
    ORG,
    VARIANTS,
    apply,
    campaign_with_creators,
    decided,
    staged,
)
from tests.forecast.conftest import REPO

H = {"X-Org-Id": ORG}
URL = f"/v1/campaigns/{CAMPAIGN}/plan"


@pytest.fixture
def plan(runtime: Runtime, client: TestClient) -> dict[str, Any]:
    campaign_with_creators(runtime, 8)
    response = client.post(URL, json={"variants": VARIANTS, "why": "first cut"}, headers=H)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _versions(client: TestClient) -> list[dict[str, Any]]:
    return list(client.get(f"{URL}/versions", headers=H).json())


def test_proposal_plans_approved_creators_with_intervals_reasons_and_budget(plan: dict[str, Any]) -> None:
    lines = plan["lines"]
    assert plan["version"] == 1 and plan["changed_by"] == "system" and plan["metric"] == "reach"
    assert {x["creator_id"] for x in lines} <= {f"cr-{i}" for i in range(8)} and len(lines) >= 8
    for x in lines:
        reach = next(f for f in x["forecast"] if f["metric"] == "reach")
        assert 0 < reach["p10"] <= reach["p50"] <= reach["p90"]
        assert "best feasible slot" in x["reason"] and x["variant_id"] in {"A", "B"}
        assert date(2026, 12, 7) <= date.fromisoformat(x["scheduled_on"]) <= date(2027, 1, 3)
    assert plan["total_cost_usd"] <= plan["budget_usd"] == 40_000
    assert plan["budget_left_usd"] == pytest.approx(40_000 - plan["total_cost_usd"], abs=0.01)


def test_proposal_spreads_messages_over_comparable_creators_one_message_per_creator(
    plan: dict[str, Any],
) -> None:
    per_creator = {x["creator_id"]: set() for x in plan["lines"]}
    for x in plan["lines"]:
        per_creator[x["creator_id"]].add(x["variant_id"])
    assert all(len(v) == 1 for v in per_creator.values())  # creator = cluster: one audience, one message
    counts = Counter(next(iter(v)) for v in per_creator.values())
    assert abs(counts["A"] - counts["B"]) <= 3  # balanced within each platform stratum (3 strata)


def test_proposal_is_published_and_a_second_one_needs_replace(runtime: Runtime, client: TestClient,
                                                             plan: dict[str, Any]) -> None:  # fmt: skip
    [event] = staged(runtime, "campaign.plan_updated")
    assert event["version"] == 1 and len(event["lines"]) == len(plan["lines"]) and event["approved"] is False
    again = client.post(URL, json={"variants": VARIANTS}, headers=H)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "replace"


def test_move_locks_the_line_replans_the_rest_and_records_who_and_why(
    client: TestClient, plan: dict[str, Any]
) -> None:
    line = plan["lines"][0]
    day = date.fromisoformat(line["scheduled_on"])
    target = date(2027, 1, 2) if day < date(2026, 12, 25) else date(2026, 12, 8)
    r = client.patch(f"{URL}/lines/{line['line_id']}", json={"scheduled_on": str(target), "why": "launch event"},
                     headers=H)  # fmt: skip
    assert r.status_code == 200, r.text
    new = r.json()
    moved = next(x for x in new["lines"] if x["line_id"] == line["line_id"])
    assert moved["scheduled_on"] == str(target) and moved["locked"]
    assert new["version"] == 2 and new["changed_by"] == "admin:open" and new["why"] == "launch event"
    assert f"moved {line['line_id']}" in new["change"]
    mine = sorted(
        date.fromisoformat(x["scheduled_on"]) for x in new["lines"] if x["creator_id"] == line["creator_id"]
    )
    assert all((b - a).days >= new["min_spacing_days"] for a, b in itertools.pairwise(mine))
    assert [v["version"] for v in _versions(client)] == [1, 2]


def test_edit_breaking_spacing_is_refused_and_plan_unchanged(
    client: TestClient, plan: dict[str, Any]
) -> None:
    creator = Counter(x["creator_id"] for x in plan["lines"]).most_common(1)[0][0]
    a, b = [x for x in plan["lines"] if x["creator_id"] == creator][:2]
    client.patch(f"{URL}/lines/{a['line_id']}", json={"locked": True}, headers=H)
    r = client.patch(f"{URL}/lines/{b['line_id']}", json={"scheduled_on": a["scheduled_on"]}, headers=H)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "scheduled_on"
    assert "day(s) apart" in r.json()["detail"]
    assert len(_versions(client)) == 2  # the lock is stored; the refused move is not
    assert client.get(URL, headers=H).json()["version"] == 2


def test_swap_to_a_creator_not_approved_is_refused(
    runtime: Runtime, client: TestClient, plan: dict[str, Any]
) -> None:
    apply(runtime, decided(20, decision="reject"))
    line = plan["lines"][0]["line_id"]
    for who in ("cr-20", "cr-nobody"):
        r = client.patch(f"{URL}/lines/{line}", json={"creator_id": who}, headers=H)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "creator_id", r.text
    assert len(_versions(client)) == 1


def test_swap_to_an_approved_creator_takes_its_account_and_fee(
    client: TestClient, plan: dict[str, Any]
) -> None:
    line = next(x for x in plan["lines"] if x["platform"] == "instagram")
    other = next(f"cr-{i}" for i in (0, 3, 6) if f"cr-{i}" != line["creator_id"])
    r = client.patch(
        f"{URL}/lines/{line['line_id']}", json={"creator_id": other, "why": "better fit"}, headers=H
    )
    assert r.status_code == 200, r.text
    swapped = next(x for x in r.json()["lines"] if x["line_id"] == line["line_id"])
    assert swapped["creator_id"] == other and swapped["platform"] == "instagram" and swapped["locked"]


def test_fee_over_budget_is_refused(client: TestClient, plan: dict[str, Any]) -> None:
    line = plan["lines"][0]["line_id"]
    r = client.patch(f"{URL}/lines/{line}", json={"cost_usd": 50_000}, headers=H)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cost_usd"
    assert len(_versions(client)) == 1


def test_drop_removes_the_line_for_good(client: TestClient, plan: dict[str, Any]) -> None:
    line = plan["lines"][0]
    r = client.post(f"{URL}/lines/{line['line_id']}/drop", json={"why": "creator on holiday"}, headers=H)
    assert r.status_code == 200, r.text
    new = r.json()
    assert line["line_id"] not in {x["line_id"] for x in new["lines"]}
    assert "dropped" in new["change"] and new["why"] == "creator on holiday"


def test_variant_change_and_new_texts_are_versions(client: TestClient, plan: dict[str, Any]) -> None:
    line = plan["lines"][0]
    other = "B" if line["variant_id"] == "A" else "A"
    r = client.patch(f"{URL}/lines/{line['line_id']}", json={"variant_id": other}, headers=H)
    assert (
        r.status_code == 200
        and next(x for x in r.json()["lines"] if x["line_id"] == line["line_id"])["variant_id"] == other
    )
    bad = client.patch(f"{URL}/lines/{line['line_id']}", json={"variant_id": "Z"}, headers=H)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "variant_id"
    texts = [*VARIANTS, {"variant_id": "C", "text": "Sun-safe in 10 seconds"}]
    r = client.put(f"{URL}/variants", json={"variants": texts, "why": "test urgency"}, headers=H)
    assert r.status_code == 200 and "added ['C']" in r.json()["change"]
    assert len(_versions(client)) == 3


def test_approve_publishes_the_version_approved_once(
    runtime: Runtime, client: TestClient, plan: dict[str, Any]
) -> None:
    r = client.post(f"{URL}/approve", json={"why": "looks right"}, headers=H)
    assert r.status_code == 200 and r.json()["approved"] and r.json()["approved_by"] == "admin:open"
    client.post(f"{URL}/approve", json={}, headers=H)
    events = staged(runtime, "campaign.plan_updated")
    assert [(e["version"], e["approved"]) for e in events] == [(1, False), (1, True)]


def test_actor_comes_from_the_principal_not_the_body(client: TestClient, plan: dict[str, Any]) -> None:
    line = plan["lines"][0]["line_id"]
    r = client.patch(f"{URL}/lines/{line}", json={"locked": True, "changed_by": "mallory"}, headers=H)
    assert r.status_code == 422


def test_plan_of_unknown_campaign_is_404(client: TestClient) -> None:
    r = client.post("/v1/campaigns/nope/plan", json={"variants": VARIANTS}, headers=H)
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "campaign_id"


def test_plan_versions_on_postgresql(postgres_database: Callable[[str], str]) -> None:
    """The same flow on PostgreSQL: JSON plan state, composite keys, a refused edit leaving the plan alone."""
    url = postgres_database("campaign_plan")
    migrate(url, REPO / "services" / "forecast" / "migrations")
    registry = ModelRegistry(REPO / "models")
    runtime = Runtime(settings=ForecastSettings(), db=Database(url), outbox=Outbox("forecast"),
                      models={"forecast": ModelSlot(registry.load_champion("forecast"))})  # fmt: skip
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(campaigns_api.router)
    app.state.runtime = runtime
    client = TestClient(app)
    try:
        campaign_with_creators(runtime, 5)
        plan = client.post(URL, json={"variants": VARIANTS}, headers=H).json()
        line = plan["lines"][0]["line_id"]
        assert client.patch(f"{URL}/lines/{line}", json={"locked": True}, headers=H).status_code == 200
        bad = client.patch(f"{URL}/lines/{line}", json={"scheduled_on": "2030-01-01"}, headers=H)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "scheduled_on"
        assert [v["version"] for v in _versions(client)] == [1, 2]
        assert client.post(f"{URL}/approve", json={}, headers=H).json()["approved"]
    finally:
        runtime.db.close()
