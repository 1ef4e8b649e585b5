"""One person, many accounts, through the API: filters met by the same account, one hit per person on
every page, links and unlinks recorded as the person who made them, and conflicting sources both kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.discovery.apputil import discovery_client, discovery_runtime


def _creator(cid: str, name: str, *accounts: tuple[str, str, int], **extra: Any) -> dict[str, Any]:
    return {
        "creator_id": cid, "name": name, "home_market": "RU", "languages": ["ru"], "categories": ["tech"],
        "accounts": [{"platform": p, "handle": h, "followers": f, "engagement_rate": 0.03} for p, h, f in accounts],
        "audience": [{"market": "RU", "audience_share": 0.6, "engagement_rate": 0.03}], **extra,
    }  # fmt: skip


CATALOGUE = [
    # One creator row with two accounts: a small VK and a large YouTube.
    _creator("two-accounts", "Ivan Petrov", ("vk", "ivan_vk", 2_000), ("youtube", "IvanPetrovTV", 300_000)),
    _creator("big-vk", "Olga Big", ("vk", "olga_big", 150_000)),
    # One person as three catalogue creators (as the ranking files give them), and a stranger.
    _creator("in-annatech", "Anna Tech", ("instagram", "anna.tech", 500_000)),
    _creator("ti-annatech", "Anna Tech", ("tiktok", "anna_tech", 900_000)),
    _creator("yo-annatech", "Anna Tech 🔧", ("youtube", "AnnaTechOfficial", 200_000)),
    _creator("in-other", "Boris Other", ("instagram", "boris.other", 700_000)),
    *[_creator(f"fill-{i}", f"Filler {i}", ("telegram", f"fill{i}", 100_000 + i)) for i in range(5)],
]


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """The API over each database: PostgreSQL ingests by COPY and reads accounts with its own JSON SQL."""
    if request.param == "postgresql":
        make: Callable[[str], str] = request.getfixturevalue("postgres_database")
        url = make("people")
    else:
        url = f"sqlite:///{tmp_path / 'discovery.db'}"
    runtime = discovery_runtime(url)
    c = discovery_client(runtime)
    assert c.post("/v1/creators/bulk", json={"creators": CATALOGUE}).status_code == 200
    yield c
    runtime.db.close()


def _ids(client: TestClient, **body: Any) -> list[str]:
    r = client.post("/v1/search", json={"limit": 50, **body})
    assert r.status_code == 200, r.text
    return [h["creator_id"] for h in r.json()["hits"]]


def _pages(client: TestClient, **body: Any) -> list[list[str]]:
    """Every page of a search, following the cursor."""
    pages, cursor = [], None
    while True:
        r = client.post("/v1/search", json={**body, "cursor": cursor})
        assert r.status_code == 200, r.text
        pages.append([h["creator_id"] for h in r.json()["hits"]])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return pages


def test_platform_and_followers_must_be_met_by_the_same_account(client: TestClient) -> None:
    assert "two-accounts" not in _ids(client, platforms=["vk"], min_followers=100_000), "VK has 2k"
    assert _ids(client, platforms=["vk"], min_followers=100_000) == ["big-vk"]
    assert "two-accounts" in _ids(client, platforms=["youtube"], min_followers=100_000)
    assert "two-accounts" in _ids(client, platforms=["vk"], max_followers=5_000)
    assert "two-accounts" in _ids(client, platforms=["vk"], tiers=["nano"])
    assert "two-accounts" not in _ids(client, platforms=["vk"], tiers=["mid", "macro"])
    assert "two-accounts" in _ids(client, min_followers=100_000), "without a platform, any account counts"


def test_linked_accounts_are_one_hit_on_every_page(client: TestClient) -> None:
    run = client.post("/v1/people/link-run").json()
    assert run == {"accounts_linked": 3, "persons": 1, "accounts_in_persons": 3}
    pages = _pages(client, limit=2, sort="followers")
    shown = [cid for page in pages for cid in page]
    anna = [cid for cid in shown if cid.endswith("annatech")]
    assert anna == ["ti-annatech"], "the person once, at their largest account"
    assert len(shown) == len(CATALOGUE) - 2
    only_small = _ids(client, platforms=["youtube", "instagram"], max_followers=600_000)
    assert "in-annatech" in only_small and "yo-annatech" not in only_small, "the first matching account leads"
    hit = client.post("/v1/search", json={"text": "anna tech"}).json()["hits"]
    assert [h["creator_id"] for h in hit] == ["in-annatech"]
    assert {a["platform"] for a in hit[0]["person"]["accounts"]} == {"instagram", "tiktok", "youtube"}


def test_text_search_pages_with_a_cursor(client: TestClient) -> None:
    pages = _pages(client, text="filler", limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(cid for p in pages for cid in p) == [f"fill-{i}" for i in range(5)]
    bad = client.post("/v1/search", json={"text": "filler", "cursor": "nonsense"})
    assert bad.status_code == 422 and "cursor" in bad.text


def test_a_person_unlinks_an_account_and_the_linker_leaves_it(client: TestClient) -> None:
    client.post("/v1/people/link-run")
    person = client.get("/v1/creators/yo-annatech").json()["person"]
    pid = person["person_id"]
    r = client.delete(f"/v1/people/{pid}/accounts/yo-annatech", headers={"X-Person": "maria@brand"})
    assert r.status_code == 200, r.text
    assert {a["creator_id"] for a in r.json()["accounts"]} == {"in-annatech", "ti-annatech"}
    assert client.get("/v1/creators/yo-annatech").json()["person"] is None
    again = client.post("/v1/people/link-run").json()
    assert again["accounts_linked"] == 0, "a person's unlink is never undone by the linker"
    linked = client.post("/v1/people/link", json={"creator_ids": ["yo-annatech", "in-other"]},
                         headers={"X-Person": "maria@brand"})  # fmt: skip
    assert linked.status_code == 200, linked.text
    accounts = linked.json()["accounts"]
    assert {a["decided_by"] for a in accounts} == {"maria@brand"}
    assert {a["method"] for a in accounts} == {"manual"}
    missing = client.post("/v1/people/link", json={"creator_ids": ["in-other", "nobody"]})
    assert missing.status_code == 404 and "nobody" in missing.text
    one = client.post("/v1/people/link", json={"creator_ids": ["in-other", "in-other"]})
    assert one.status_code == 422 and "creator_ids" in one.text


def test_conflicting_sources_are_both_kept_and_the_shown_one_is_named(client: TestClient) -> None:
    newer = _creator("big-vk", "Olga Big", ("vk", "olga_big", 160_000), measured_on="2022-11-01")
    older = _creator("big-vk", "Olga Big", ("vk", "olga_big", 90_000), measured_on="2022-06-01")
    for body in (newer, older):
        assert client.post("/v1/creators/bulk", json={"creators": [body]}).status_code == 200
    got = client.get("/v1/creators/big-vk").json()
    assert got["accounts"][0]["followers"] == 160_000
    versions = {v["measured_on"]: v for v in got["versions"]}
    assert set(versions) == {"2022-11-01", "2022-06-01", None}, "the first, undated figures too"
    assert versions["2022-11-01"]["shown"] and versions["2022-11-01"]["followers"] == {"vk": 160_000}
    assert not versions["2022-06-01"]["shown"]
    assert "not shown" in versions["2022-06-01"]["note"] and "2022-11-01" in versions["2022-06-01"]["note"]
    assert got["versions"][0]["measured_on"] == "2022-11-01", "the shown one first"


def test_a_shortlist_names_a_person_once_with_their_accounts(client: TestClient) -> None:
    client.post("/v1/people/link-run")
    brief = {"name": "RU tech", "product": "gadget", "category": "tech", "target_markets": ["RU"],
             "platforms": ["instagram", "tiktok", "youtube"], "budget_usd": 50000, "tier": "volume",
             "shortlist_size": 10}  # fmt: skip
    r = client.post("/v1/briefs", json=brief)
    assert r.status_code == 201, r.text
    entries = r.json()["entries"]
    anna = [e for e in entries if e["creator"]["creator_id"].endswith("annatech")]
    assert len(anna) == 1, [e["creator"]["creator_id"] for e in entries]
    assert {a["platform"] for a in anna[0]["person"]["accounts"]} == {"instagram", "tiktok", "youtube"}
    stored = client.get(f"/v1/campaigns/{r.json()['campaign_id']}/shortlist").json()["entries"]
    assert [e["person"] is not None for e in stored] == [e["person"] is not None for e in entries]
