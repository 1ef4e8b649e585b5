"""The REST API on SQLite (no broker needed): refusals are problem details with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.review import tasks
from services.review.app import build
from services.review.config import ReviewSettings
from services.review.routing import Policy
from shared.runtime import Runtime
from tests.review import helpers


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ReviewSettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'review.db'}", kafka_bootstrap="127.0.0.1:1",
                              consumer_enabled=False, default_org=helpers.ORG)  # fmt: skip
    with TestClient(build(settings)) as c:
        yield c


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _task(client: TestClient) -> str:
    runtime = _runtime(client)
    sl = helpers.shortlist([helpers.entry(1, "cr-1", 0.5, 0.1)])
    with runtime.db.transaction() as session:
        (task,) = tasks.create_tasks(
            session, helpers.ORG, sl, helpers.plan(Policy(0.85, 0.25, 0.7, 0.0)), runtime.outbox
        )
    return task.task_id


def as_(person: str) -> dict[str, str]:
    """Open mode (no keys): the person a judgement is recorded as is named in X-Person."""
    return {"X-Person": person}


def _put(client: TestClient, who: str, markets: list[str]) -> None:
    r = client.put(f"/v1/reviewers/{who}", json={"name": who, "markets": markets, "daily_capacity": 10})
    assert r.status_code == 200, r.text


def test_decision_for_an_uncovered_market_is_a_403_problem_with_the_reason(client: TestClient) -> None:
    _put(client, "olga", ["RU"])
    task_id = _task(client)
    r = client.post(f"/v1/tasks/{task_id}/decision", json={"decision": "approve"}, headers=as_("olga"))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == [
        {"field": "reviewer", "reason": "olga does not cover market US (covers RU)"}
    ]


def test_decision_then_resend_then_change_is_201_200_409(client: TestClient) -> None:
    _put(client, "ann", ["US"])
    task_id = _task(client)
    body = {"reviewer": "ann", "decision": "approve",
            "checklist": {"brand_values": {"rating": 5, "note": "spot on"}}}  # fmt: skip
    first = client.post(f"/v1/tasks/{task_id}/decision", json=body, headers=as_("ann"))
    again = client.post(f"/v1/tasks/{task_id}/decision", json=body, headers=as_("ann"))
    changed = client.post(
        f"/v1/tasks/{task_id}/decision", json={**body, "decision": "reject"}, headers=as_("ann")
    )
    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 409)
    assert first.json()["decision_id"] == again.json()["decision_id"] and first.json()["final"]
    assert "already decided (approve by ann)" in changed.json()["detail"]
    task = client.get(f"/v1/tasks/{task_id}").json()
    assert task["reviews"][0]["checklist"] == {"brand_values": {"rating": 5, "note": "spot on"}}


def test_unknown_checklist_item_is_a_422(client: TestClient) -> None:
    r = client.post("/v1/tasks/t/decision", json={"reviewer": "ann", "decision": "approve",
                                                   "checklist": {"vibes": {"rating": 3}}})  # fmt: skip
    assert r.status_code == 422 and "unknown checklist items ['vibes']" in r.json()["detail"]


def test_reviewer_with_unknown_market_is_a_422(client: TestClient) -> None:
    r = client.put("/v1/reviewers/x", json={"name": "x", "markets": ["XX"]})
    assert r.status_code == 422 and "XX" in r.json()["detail"]


def test_simulator_endpoint_returns_the_workload(client: TestClient) -> None:
    r = client.post("/v1/simulator", json={"campaigns_per_month": 50, "finalists_per_campaign": 20,
                                           "team": [{"count": 5, "daily_capacity": 30}]})  # fmt: skip
    assert r.status_code == 200
    assert r.json()["finalists"] == 1000 and r.json()["capacity"] == 5 * 30 * 21


def test_settings_round_trip_and_effective_values(client: TestClient) -> None:
    r = client.put("/v1/settings/brand/glow", json={"audit_sample_rate": 0.4})
    assert r.status_code == 200
    eff = client.get("/v1/settings/effective", params={"brand": "glow", "campaign_id": "cmp-9"}).json()
    assert eff["audit_sample_rate"] == 0.4 and eff["auto_approve_min_match"] == 0.85


def test_web_app_redirects_to_sign_in_and_refuses_a_wrong_password(client: TestClient) -> None:
    r = client.get("/app/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/app/login")
    client.put("/v1/reviewers/ann", json={"name": "Ann", "markets": ["US"], "password": "s3cret-pass"})
    bad = client.post("/app/login", data={"reviewer_id": "ann", "password": "nope-nope"})
    assert bad.status_code == 401 and "wrong password" in bad.text
    ok = client.post(
        "/app/login", data={"reviewer_id": "ann", "password": "s3cret-pass"}, follow_redirects=False
    )
    assert ok.status_code == 303 and "tandem_review_session" in ok.headers["set-cookie"]


def test_with_api_keys_reviewers_decide_but_only_strategists_change_settings(tmp_path: Path) -> None:
    settings = ReviewSettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'review.db'}", kafka_bootstrap="127.0.0.1:1",
                              consumer_enabled=False, auth_mode="keys")  # fmt: skip
    with TestClient(build(settings)) as c:
        keys = _runtime(c).keys
        assert keys is not None
        reviewer = {"X-API-Key": keys.issue(helpers.ORG, "reviewer", "ann's tool", person="ann")}
        strategist = {"X-API-Key": keys.issue(helpers.ORG, "strategist", "lead")}
        team = {"name": "Ann", "markets": ["US"]}
        assert c.put("/v1/reviewers/ann", json=team, headers=reviewer).status_code == 403
        assert c.put("/v1/reviewers/ann", json=team, headers=strategist).status_code == 200
        assert (
            c.put("/v1/settings/brand/glow", json={"audit_sample_rate": 0.3}, headers=reviewer).status_code
            == 403
        )
        task_id = _task(c)
        r = c.post(
            f"/v1/tasks/{task_id}/decision", json={"reviewer": "ann", "decision": "approve"}, headers=reviewer
        )
        assert r.status_code == 201
        assert c.get(f"/v1/tasks/{task_id}").status_code == 401  # no key at all
