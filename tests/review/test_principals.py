"""Judgements belong to principals (keys mode): a decision is its key's person's, an integration key is
named in the audit trail, one principal never fills two places of a two-reviewer task, and an admin's
sweep stays inside its organisation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.review import tasks
from services.review.app import build
from services.review.config import ReviewSettings
from services.review.models import ReviewTask
from services.review.routing import Policy
from shared.identity.keys import KeyStore
from shared.runtime import Runtime
from tests.review import helpers

POLICY = Policy(0.85, 0.25, 0.7, 0.0)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ReviewSettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'review.db'}",
                              kafka_bootstrap="127.0.0.1:1", consumer_enabled=False, auth_mode="keys")  # fmt: skip
    with TestClient(build(settings)) as c:
        yield c


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def _keys(client: TestClient) -> KeyStore:
    keys = _runtime(client).keys
    assert keys is not None
    return keys


def _key(client: TestClient, role: str, person: str | None = None, org: str = helpers.ORG) -> dict[str, str]:
    return {"X-API-Key": _keys(client).issue(org, role, f"{role} of {person}", person=person)}


def _team(client: TestClient, *people: str, org: str = helpers.ORG) -> None:
    lead = _key(client, "strategist", org=org)
    for who in people:
        body = {"name": who, "markets": ["US"], "daily_capacity": 10}
        assert client.put(f"/v1/reviewers/{who}", json=body, headers=lead).status_code == 200


def _task(client: TestClient, tier: str = "strategic", org: str = helpers.ORG) -> str:
    runtime = _runtime(client)
    sl = helpers.shortlist([helpers.entry(1, "cr-1", 0.5, 0.1)], tier=tier, campaign_id=f"cmp-{org}")
    with runtime.db.transaction() as session:
        (task,) = tasks.create_tasks(session, org, sl, helpers.plan(POLICY), runtime.outbox)
    return task.task_id


def _decide(client: TestClient, task_id: str, headers: dict[str, str], **body: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = client.post(f"/v1/tasks/{task_id}/decision", json={"decision": "approve", **body}, headers=headers)
    return r.status_code, r.json()


def test_two_decisions_by_one_principal_never_complete_a_two_reviewer_task(client: TestClient) -> None:
    _team(client, "ann", "bob")
    task_id = _task(client)
    ann = _key(client, "reviewer", "ann")
    assert _decide(client, task_id, ann)[0] == 201
    assert _decide(client, task_id, ann)[0] == 200  # the same decision again: a re-send, not a second review
    code, problem = _decide(client, task_id, ann, reviewer="bob")  # naming the other reviewer in the body
    assert code == 422 and problem["errors"][0]["field"] == "reviewer"
    ann_tool = _key(client, "integration", "ann")  # ann's own tool: still ann, still one place
    assert _decide(client, task_id, ann_tool)[0] == 200
    task = client.get(f"/v1/tasks/{task_id}", headers=ann).json()
    assert task["status"] == "open" and task["decision"] is None
    assert [(r["reviewer_id"], r["status"]) for r in task["reviews"] if r["status"] == "done"] == [
        ("ann", "done")
    ]
    code, out = _decide(client, task_id, _key(client, "reviewer", "bob"))
    assert code == 201 and out["final"]
    assert client.get(f"/v1/tasks/{task_id}", headers=ann).json()["decision"]["decided_by"] == "ann, bob"


def test_the_audit_trail_names_the_principal_and_the_key_that_acted_for_them(client: TestClient) -> None:
    _team(client, "ann", "bob")
    task_id = _task(client)
    bob_tool = _key(client, "integration", "bob")
    tool_id = bob_tool["X-API-Key"][4:].split(".")[0]
    assert _decide(client, task_id, _key(client, "reviewer", "ann"))[0] == 201
    code, out = _decide(client, task_id, bob_tool, notes="via the review bot")
    assert code == 201 and out["decided_by"] == "bob" and out["via"] == f"integration:{tool_id}"
    task = client.get(f"/v1/tasks/{task_id}", headers=bob_tool).json()
    assert {(r["reviewer_id"], r["via"]) for r in task["reviews"]} == {
        ("ann", ""),
        ("bob", f"integration:{tool_id}"),
    }
    assert task["decision"]["decided_by"] == f"ann, bob via integration:{tool_id}"


def test_a_key_bound_to_nobody_cannot_decide_and_notes_are_the_callers(client: TestClient) -> None:
    _team(client, "ann")
    task_id = _task(client, tier="volume")
    code, problem = _decide(client, task_id, _key(client, "reviewer"))
    assert code == 403 and "not bound to" in problem["detail"]
    lead = _key(client, "strategist", "lena")
    r = client.post("/v1/creators/cr-1/relationship", json={"status": "active", "notes": "met"}, headers=lead)
    assert r.status_code == 201 and r.json()["author"] == "lena"
    unbound = _key(client, "strategist")
    r = client.post("/v1/creators/cr-1/relationship", json={"status": "active"}, headers=unbound)
    assert r.json()["author"].startswith("strategist:")  # the key itself, never a made-up name


def test_an_admins_sweep_acts_only_within_its_organisation(client: TestClient) -> None:
    ours, theirs = _task(client, org=helpers.ORG), _task(client, org="other-org")
    runtime = _runtime(client)
    with runtime.db.transaction() as session:  # both overdue
        for row in session.exec(select(ReviewTask)):
            row.due_at = datetime.now(UTC) - timedelta(hours=1)
            session.add(row)
    r = client.post("/v1/sweep", headers=_key(client, "admin"))
    assert r.status_code == 200 and r.json()["escalated"] == 1
    with runtime.db.transaction() as session:
        escalated = {t.task_id: t.escalated for t in session.exec(select(ReviewTask))}
    assert escalated == {ours: True, theirs: False}
    assert client.post("/v1/sweep", headers=_key(client, "strategist")).status_code == 403
