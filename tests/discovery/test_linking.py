"""The linker: normalised handles and names, what counts as evidence, and linking on the real ranking rows
(the same people appear on Instagram, TikTok and YouTube)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.discovery.linking import Account, compact_handle, handle_key, match, name_key
from tests.discovery.apputil import ranking_client


def _account(cid: str, name: str, *handles: tuple[str, str]) -> Account:
    return Account(creator_id=cid, name=name, handles=frozenset((p, compact_handle(h)) for p, h in handles))


def test_handle_key_drops_case_at_separators_and_official_suffix() -> None:
    assert handle_key("@Kimberly.Loaiza") == handle_key("kimberly_loaiza") == "kimberlyloaiza"
    assert handle_key("nehakakkarofficial") == "nehakakkar"
    assert handle_key("JustinBieberVEVO") == "justinbieber"
    assert handle_key("tv") == "tv", "a suffix is only dropped when a handle is left"


def test_name_key_drops_emoji_punctuation_case_and_accents() -> None:
    assert name_key("KIM LOAIZA 🖤") == "kim loaiza"
    assert name_key("Júlio  Cocielo!") == "julio cocielo"
    assert name_key("Kylie 🤍") == "kylie"


def test_same_handle_on_two_platforms_links_surer_with_the_same_name() -> None:
    ig = _account("in-a", "Taylor Swift", ("instagram", "taylorswift"))
    yt = _account("yo-a", "Taylor Swift", ("youtube", "TaylorSwift"))
    other = _account("yo-b", "TS fan page", ("youtube", "taylor_swift"))
    both, handle_only = match(ig, yt), match(ig, other)
    assert both is not None and handle_only is not None
    assert (both.method, both.confidence) == ("handle", 0.97)
    assert handle_only.confidence == 0.9
    short = match(_account("in-n", "Nina", ("instagram", "nina")), _account("ti-n", "N", ("tiktok", "nina")))
    assert short is not None and short.confidence < 0.75, "a short handle alone is weak evidence"


def test_same_name_links_only_when_the_name_is_in_both_handles() -> None:
    yt = _account("yo-m", "MrBeast", ("youtube", "MrBeast6000"))
    tt = _account("ti-m", "MrBeast", ("tiktok", "mrbeast"))
    found = match(yt, tt)
    assert found is not None and (found.method, found.confidence) == ("name", 0.8)
    stranger = match(_account("in-x", "Bella 🦋", ("instagram", "bellahadid")),
                     _account("ti-y", "BELLA", ("tiktok", "bellathorne")))  # fmt: skip
    assert stranger is None or stranger.confidence < 0.75, "a one-word first name is no evidence"
    assert match(_account("a", "Ann Lee", ("tiktok", "x1234")), _account("b", "Bob", ("vk", "y5678"))) is None


def test_the_same_account_in_two_sources_is_a_cross_link() -> None:
    source_a = _account("api-1", "Zach King", ("instagram", "zachking"), ("youtube", "ZachKingChannel"))
    source_b = _account("in-zachking", "zach king", ("instagram", "ZachKing"))
    found = match(source_a, source_b)
    assert found is not None and (found.method, found.confidence) == ("cross_link", 0.99)


# --- the real ranking rows --------------------------------------------------------------------------


TOP = 400


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # The top 400 of each Nov-2022 ranking: the names that recur across platforms, at a test's cost.
    yield from ranking_client(tmp_path_factory.mktemp("people"), ("2022-11",), top=TOP)


def _person(client: TestClient, creator_id: str) -> dict[str, Any] | None:
    r = client.get(f"/v1/creators/{creator_id}")
    assert r.status_code == 200, r.text
    person: dict[str, Any] | None = r.json()["person"]
    return person


def test_real_rows_link_the_same_people_across_platforms(real: TestClient) -> None:
    run = real.post("/v1/people/link-run").json()
    print(f"\nreal Nov-2022 rankings: {run}")
    assert run["persons"] >= 40 and run["accounts_in_persons"] >= 2 * run["persons"]
    kim = _person(real, "in-kimberly.loaiza")
    assert kim is not None
    assert {a["creator_id"] for a in kim["accounts"]} == {"in-kimberly.loaiza", "ti-kimberly.loaiza",
                                                          "yo-kimberly_loaiza"}  # fmt: skip
    assert all(a["confidence"] >= 0.75 and a["decided_by"] is None for a in kim["accounts"])
    taylor = _person(real, "yo-taylorswift")
    assert taylor is not None and {a["platform"] for a in taylor["accounts"]} == {
        "instagram",
        "tiktok",
        "youtube",
    }
    assert _person(real, "in-bellahadid") is None or all(
        a["creator_id"] != "in-bellathorne"
        for a in _person(real, "in-bellahadid")["accounts"]  # type: ignore[index]
    )
    again = real.post("/v1/people/link-run").json()
    assert again["accounts_linked"] == 0 and again["persons"] == run["persons"], (
        "a second run changes nothing"
    )


def test_a_real_person_is_one_search_hit_with_every_account(real: TestClient) -> None:
    real.post("/v1/people/link-run")
    hits = real.post("/v1/search", json={"text": "Kimberly Loaiza", "limit": 10}).json()["hits"]
    kims = [
        h
        for h in hits
        if h["person"] and any(a["handle"] == "kimberly.loaiza" for a in h["person"]["accounts"])
    ]
    assert len(kims) == 1, "three accounts, one person, one hit"
    assert {a["platform"] for a in kims[0]["person"]["accounts"]} == {"instagram", "tiktok", "youtube"}


def test_no_automatic_person_holds_two_different_accounts_on_one_platform(real: TestClient) -> None:
    real.post("/v1/people/link-run")
    seen: Counter[str] = Counter()
    for platform in ("instagram", "tiktok", "youtube"):
        hits = real.post("/v1/search", json={"platforms": [platform], "min_followers": 30_000_000,
                                             "limit": 200}).json()["hits"]  # fmt: skip
        for h in hits:
            if h["person"]:
                per_platform = Counter(a["platform"] for a in h["person"]["accounts"])
                assert max(per_platform.values()) == 1, h["person"]
                seen[platform] += 1
    assert sum(seen.values()) > 20
