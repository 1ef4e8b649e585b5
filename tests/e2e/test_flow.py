"""End to end across separate service processes, the real broker and PostgreSQL."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from shared import topics
from shared.broker import Broker
from tandem import synthetic
from tandem.demo import DEMO_BRIEFS, DemoClient
from tandem.supervisor import Suite
from tests.busutil import (
    contract_violations,
    creator_messages,
    everything_published,
    produce,
    read_topic,
    sql_count,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def _events(bootstrap: str, topic: str, campaign_id: str, expect: int) -> list[dict[str, object]]:
    out = []
    for r in read_topic(bootstrap, topic, 100_000, timeout_s=20):
        env = orjson.loads(r.value)
        if env["payload"].get("campaign_id") == campaign_id:
            out.append(env)
    assert len(out) >= expect, f"{topic}: {len(out)} events for {campaign_id}, expected {expect}"
    return out


def test_brief_to_forecast_flows_through_kafka_between_processes(
    suite: Suite, broker: Broker, report_counts: Callable[[str], None]
) -> None:
    client = DemoClient(suite)
    client.load_catalogue(synthetic.generate_world(400, seed=3))
    brief = {**DEMO_BRIEFS[0], "shortlist_size": 15}
    result = client.run_campaign(brief)
    shortlist, summary = result["shortlist"], result["summary"]
    cid = shortlist["campaign_id"]

    assert shortlist["entries"], "the brief found no candidates"
    assert all(e["reasons"] and e["fraud_level"] != "unknown" for e in shortlist["entries"])
    assert summary["tasks"] - summary["audits"] == len(shortlist["entries"])
    approvals = summary["decisions"].get("approve", 0)
    assert approvals >= 1
    assert len(result["forecasts"]) == approvals

    # What the services published, read back from the broker itself.
    published = _events(broker.bootstrap, topics.DISCOVERY_SHORTLISTS, cid, 1)
    assert len(published[0]["payload"]["entries"]) == len(shortlist["entries"])  # type: ignore[index]
    decided = _events(broker.bootstrap, topics.REVIEW_DECISIONS, cid, sum(summary["decisions"].values()))
    assert {e["correlation_id"] for e in decided} <= {e["correlation_id"] for e in published} | {
        e["correlation_id"] for e in decided
    }
    forecasts = _events(broker.bootstrap, topics.FORECASTS, cid, approvals)
    assert {e["payload"]["creator_id"] for e in forecasts} == {f["creator_id"] for f in result["forecasts"]}  # type: ignore[index]

    # Every message the services published validates against docs/asyncapi.yaml (the outbox stamps
    # `event_type`; records tests put on the broker by hand have no such header).
    ours = [r for r in everything_published(broker.bootstrap) if "event_type" in dict(r.headers)]
    problems = [p for r in ours for p in contract_violations(r.topic, r.value, dict(r.headers))]
    kinds = Counter(dict(r.headers)["event_type"].decode() for r in ours)
    report_counts(f"asyncapi: {len(ours)} published messages of {len(kinds)} types checked: {dict(kinds)}")
    assert problems[:5] == []
    assert {
        "fraud.scored",
        "shortlist.published",
        "review.requested",
        "review.decided",
        "forecast.published",
    } <= set(kinds)


def test_strategic_campaign_sends_every_finalist_to_people(suite: Suite) -> None:
    client = DemoClient(suite)
    shortlist = client.post(
        "discovery",
        "/v1/briefs",
        {**DEMO_BRIEFS[1], "target_markets": ["US", "GB"], "platforms": ["instagram", "youtube"]},
    )
    cid = shortlist["campaign_id"]
    deadline = time.monotonic() + 30
    summary = None
    while time.monotonic() < deadline:
        summary = client.get("review", f"/v1/campaigns/{cid}/summary")
        if summary and summary["tasks"] == len(shortlist["entries"]):
            break
        time.sleep(0.2)
    assert summary is not None
    assert summary["sent_to_people"] == len(shortlist["entries"]) > 0
    assert summary["auto_decided"] == 0


def test_bad_brief_gets_a_problem_with_the_field(suite: Suite) -> None:
    client = DemoClient(suite)
    r = client.http.post(
        suite["discovery"].url + "/v1/briefs", json={**DEMO_BRIEFS[0], "target_markets": ["XX"]}
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["field"] == "target_markets"
    assert "XX" in body["errors"][0]["reason"]
    assert r.headers["content-type"].startswith("application/problem+json")


def test_consumer_killed_mid_stream_loses_nothing_and_applies_nothing_twice(
    broker: Broker, postgres_database: Callable[[str], str], tmp_path: Path
) -> None:
    total = 3000
    url = postgres_database("kill")
    suite = Suite(
        bootstrap=broker.bootstrap,
        workdir=tmp_path,
        database_urls={"fraud": url},
        # Polls smaller than the backlog, so the kill lands between polls rather than after the only one.
        extra_env={
            "TANDEM_FRAUD_CONSUMER_GROUP": "tandem-fraud-killtest",
            "TANDEM_FRAUD_KAFKA_MAX_POLL_RECORDS": "300",
        },
    )
    fraud = suite.add("fraud")
    fraud.start()
    fraud.wait_ready()
    try:
        produce(
            broker.bootstrap, topics.CATALOG_CREATORS, creator_messages(100_000, total, org_id="kill-org")
        )
        scores = "SELECT count(*) FROM fraud_score WHERE org_id = 'kill-org'"
        deadline = time.monotonic() + 60
        while sql_count(url, scores) < total // 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        stored_before_kill = sql_count(url, scores)
        fraud.kill()  # SIGKILL mid-stream: no shutdown hook, no final offset commit
        assert 0 < stored_before_kill < total, "the kill did not land mid-stream"

        fraud.start()
        fraud.wait_ready()
        deadline = time.monotonic() + 120
        while sql_count(url, scores) < total and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # let any re-delivered duplicates arrive before counting
        assert sql_count(url, scores) == total
        # Scores are published before each poll commits, so the poll the kill interrupted is published
        # again on re-delivery, under the same event ids (derived from the source events'): downstream
        # consumers see one event per creator, however many copies the broker holds.
        published = [
            r for r in read_topic(broker.bootstrap, topics.FRAUD_SCORES, expect=10**9, timeout_s=90)
            if dict(r.headers).get("org_id") == b"kill-org"
        ]  # fmt: skip
        ids = {dict(r.headers)["event_id"] for r in published}
        assert len(ids) == total
        assert len({r.key for r in published}) == total
    finally:
        suite.stop()
