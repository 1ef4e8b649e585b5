"""Discovery routes: bulk ingest, search, briefs, lookalikes, and 4xx answers that name the field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from services.discovery import consumers
from shared.events import RelationshipUpdated, wrap
from shared.runtime import Runtime
from tandem.demo import DEMO_BRIEFS
from tandem.synthetic import generate_world
from tests.discovery.apputil import discovery_client, discovery_runtime

WORLD = generate_world(600, seed=8).payloads()


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt = discovery_runtime(f"sqlite:///{tmp_path_factory.mktemp('api') / 'discovery.db'}")
    yield rt
    rt.db.close()


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> TestClient:
    c = discovery_client(runtime)
    assert c.post("/v1/creators/bulk", json={"creators": WORLD}).status_code == 200
    return c


def _field(response: Any) -> str:
    body = response.json()
    return " ".join(str(e.get("field") or e.get("loc") or "") for e in body.get("errors", []))


def test_bulk_upsert_is_idempotent(client: TestClient) -> None:
    again = client.post("/v1/creators/bulk", json={"creators": WORLD[:50]}).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 50)
    assert client.get("/v1/catalog/stats").json()["creators"] == len(WORLD)


@pytest.mark.parametrize(
    ("body", "field"),
    [(b'{"creators": [{"creator_id": "x"}]}', "name"), (b'{"creators": []}', "creators"),
     (b'{"creators": [', "body"), (None, "home_market")],
)  # fmt: skip
def test_bulk_upsert_rejects_bad_bodies_naming_the_field(
    client: TestClient, body: bytes | None, field: str
) -> None:
    """The route validates the raw body itself (bulk.ingest_json): errors are still 422s naming the field,
    and a batch with one bad creator writes nothing."""
    if body is None:
        body = orjson.dumps(
            {"creators": [{**WORLD[0], "creator_id": "new-1"}, {**WORLD[1], "home_market": "ZZ"}]}
        )
    before = client.get("/v1/catalog/stats").json()["creators"]
    response = client.post("/v1/creators/bulk", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert field in _field(response)
    assert client.get("/v1/catalog/stats").json()["creators"] == before


def test_search_pages_through_every_match(client: TestClient) -> None:
    body = {"engagement": {"markets": ["US", "GB", "CA"], "min_rate": 0.01, "min_markets": 2}, "limit": 25}
    ids, cursor = [], None
    while True:
        page = client.post("/v1/search", json={**body, "cursor": cursor}).json()
        ids += [h["creator_id"] for h in page["hits"]]
        assert all(h["confidence"] in ("high", "low") for h in page["hits"])
        if not (cursor := page["next_cursor"]):
            break
    want = {
        p["creator_id"] for p in WORLD
        if sum(m["market"] in ("US", "GB", "CA") and m["engagement_rate"] >= 0.01 for m in p["audience"]) >= 2
    }  # fmt: skip
    assert set(ids) == want and len(ids) == len(want) > 25


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"audience_markets": ["XX"]}, "audience_markets"),
        ({"platforms": ["myspace"]}, "platforms"),
        ({"categories": ["astrology"]}, "categories"),
        ({"min_followers": 10_000, "max_followers": 100}, "max_followers"),
        ({"min_price_usd": 500, "max_price_usd": 10}, "max_price_usd"),
        ({"engagement": {"markets": ["US"], "min_rate": 0.02, "min_markets": 3}}, "min_markets"),
        ({"engagement": {"markets": ["USA"], "min_rate": 0.02}}, "markets"),
        ({"sort": "vibes"}, "sort"),
    ],
)  # fmt: skip
def test_search_rejects_bad_input_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/search", json=body)
    assert response.status_code == 422
    assert field in _field(response)


@pytest.mark.parametrize(
    ("patch", "field"),
    [({"target_markets": ["ZZ"]}, "target_markets"), ({"category": "astrology"}, "category"),
     ({"platforms": ["orkut"]}, "platforms"), ({"min_followers": 9, "max_followers": 1}, "")],
)  # fmt: skip
def test_malformed_brief_is_a_4xx(client: TestClient, patch: dict[str, Any], field: str) -> None:
    response = client.post("/v1/briefs", json={**DEMO_BRIEFS[0], **patch})
    assert response.status_code == 422
    assert field in _field(response)


def test_demo_briefs_give_explained_shortlists(client: TestClient) -> None:
    for brief in DEMO_BRIEFS:
        out = client.post("/v1/briefs", json=brief).json()
        assert out["entries"] and out["model_name"] == "ranking"
        for e in out["entries"]:
            assert any(r["value"] is not None for r in e["reasons"])
            assert all(r["as_of"] for r in e["reasons"] if r["code"] != "fraud_unscored")
        again = client.get(f"/v1/campaigns/{out['campaign_id']}/shortlist").json()
        assert again["entries"] == out["entries"]


def test_relationship_events_feed_reasons_and_filters(client: TestClient, runtime: Runtime) -> None:
    shortlist = client.post("/v1/briefs", json=DEMO_BRIEFS[0]).json()
    cid = shortlist["entries"][0]["creator"]["creator_id"]
    for n, outcome in enumerate((1.2, 1.4)):
        event = RelationshipUpdated(creator_id=cid, campaign_id=f"cmp-old-{n}", status="completed",
                                    outcome_vs_forecast=outcome, updated_at=datetime.now(UTC))  # fmt: skip
        envelope = wrap(event, producer="review", correlation_id="c", org_id="demo")
        with runtime.db.transaction() as session:
            consumers.handlers(runtime)[event.event_type](session, event, envelope)
    again = client.post("/v1/briefs", json=DEMO_BRIEFS[0]).json()
    entry = next(e for e in again["entries"] if e["creator"]["creator_id"] == cid)
    texts = [r["text"] for r in entry["reasons"] if r["code"] == "relationship"]
    assert texts == ["worked with us twice, both campaigns above forecast (mean 1.30x forecast)"]
    hits = client.post("/v1/search", json={"worked_with": "yes"}).json()["hits"]
    assert [h["creator_id"] for h in hits] == [cid] and hits[0]["past_outcome"] == pytest.approx(1.3)


def test_lookalikes_share_audience_markets(client: TestClient) -> None:
    seed = next(p for p in WORLD if p["home_market"] == "RU")
    out = client.get(f"/v1/creators/{seed['creator_id']}/lookalikes?limit=10").json()
    assert len(out["results"]) == 10 and out["candidates_considered"] >= 10
    sims = [r["similarity"] for r in out["results"]]
    assert sims == sorted(sims, reverse=True)
    assert all("RU" in r["shared_markets"] or r["home_market"] in ("RU", "KZ", "UA") for r in out["results"])
    assert client.post("/v1/lookalikes", json={"creator_ids": ["nobody"]}).status_code == 404


def test_lookalikes_of_past_winners(client: TestClient, runtime: Runtime) -> None:
    winners = [p["creator_id"] for p in WORLD if p["home_market"] == "BR"][:2]
    for n, cid in enumerate(winners):
        event = RelationshipUpdated(creator_id=cid, campaign_id="cmp-won", status="completed",
                                    outcome_vs_forecast=1.1 + n, updated_at=datetime.now(UTC))  # fmt: skip
        with runtime.db.transaction() as session:
            consumers.on_relationship_updated(
                session, event, wrap(event, producer="review", correlation_id="c", org_id="demo")
            )
    out = client.post("/v1/lookalikes", json={"winners_of": ["cmp-won"], "limit": 5}).json()
    assert out["seeds"] == sorted(winners) and len(out["results"]) == 5
    assert not set(winners) & {r["creator_id"] for r in out["results"]}
    missing = client.post("/v1/lookalikes", json={"winners_of": ["cmp-none"]})
    assert missing.status_code == 404 and "winners_of" in _field(missing)
    assert client.post("/v1/lookalikes", json={}).status_code == 422
