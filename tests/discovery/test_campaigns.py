"""The brief opens a campaign: brand, objective, dates and owner; keywords in ranking and reasons; lessons
and trend calls from review shown on the next brief in their scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.discovery import consumers
from services.discovery import keywords as kw
from services.discovery.schemas import CreatorIn
from shared.bus.tables import OutboxMessage
from shared.events import (
    CampaignOpened,
    Event,
    LessonRecorded,
    ShortlistPublished,
    TrendCalled,
    parse_envelope,
    unwrap,
    wrap,
)
from shared.identity.keys import Principal
from shared.orgs import current_principal
from shared.runtime import Runtime
from tandem.synthetic import generate_world
from tests.discovery.apputil import discovery_client, discovery_runtime

ORG = "acme"
WORLD = generate_world(300, seed=11).payloads()
BRIEF: dict[str, Any] = {
    "name": "Summer sun care", "brand": "SolBright", "objective": "conversions", "starts_on": "2027-05-01",
    "ends_on": "2027-06-30", "category": "beauty", "target_markets": ["US", "GB"],
    "platforms": ["instagram", "tiktok", "youtube"], "budget_usd": 40_000, "keywords": ["sunscreen"],
    "brand_values": ["honest claims"], "shortlist_size": 10,
}  # fmt: skip


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt = discovery_runtime(f"sqlite:///{tmp_path_factory.mktemp('campaigns') / 'discovery.db'}")
    yield rt
    rt.db.close()


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> TestClient:
    c = discovery_client(runtime)
    # The caller is a person signed in with a key bound to them: the owner must be them.
    c.app.dependency_overrides[current_principal] = lambda: Principal(ORG, "strategist", "k1", "maria@brand")  # type: ignore[attr-defined]
    assert c.post("/v1/creators/bulk", json={"creators": WORLD}).status_code == 200
    return c


def _staged(runtime: Runtime, campaign_id: str) -> list[Event]:
    with runtime.db.transaction() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.key == campaign_id)).all()
        return [unwrap(parse_envelope(r.value)) for r in rows]


def _apply(runtime: Runtime, event: Event) -> None:
    envelope = wrap(event, producer="review", correlation_id="c", org_id=ORG)
    with runtime.db.transaction() as session:
        consumers.handlers(runtime)[event.event_type](session, event, envelope)


def test_brief_opens_a_campaign_owned_by_the_principal_with_its_brand(
    client: TestClient, runtime: Runtime
) -> None:
    out = client.post("/v1/briefs", json=BRIEF).json()
    assert (out["brand"], out["owner"]) == ("SolBright", "maria@brand")
    opened, published = _staged(runtime, out["campaign_id"])
    assert isinstance(opened, CampaignOpened) and isinstance(published, ShortlistPublished)
    assert (opened.owner, opened.brand, opened.objective) == ("maria@brand", "SolBright", "conversions")
    assert (opened.starts_on, opened.ends_on) == (date(2027, 5, 1), date(2027, 6, 30))
    assert opened.keywords == ["sunscreen"] and opened.brand_values == ["honest claims"]
    assert opened.markets == ["US", "GB"] and opened.budget_usd == 40_000
    assert published.brand == "SolBright"  # review's per-brand routing settings key on this


@pytest.mark.parametrize(
    ("patch", "field"),
    [({"owner": "someone-else"}, "owner"), ({"objective": "vibes"}, "objective"),
     ({"starts_on": "2027-06-01", "ends_on": "2027-05-01"}, "")],
)  # fmt: skip
def test_brief_refuses_an_owner_in_the_body_and_bad_dates(
    client: TestClient, patch: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/briefs", json={**BRIEF, **patch})
    assert response.status_code == 422
    assert field in str(response.json())


def _with_texts(payload: dict[str, Any], bio: str, posts: list[str]) -> dict[str, Any]:
    return {**payload, "bio": bio, "recent_posts": posts}


def test_keywords_lift_a_creator_who_writes_about_them_with_a_reason_in_words_and_numbers(
    client: TestClient,
) -> None:
    plain = client.post("/v1/briefs", json={**BRIEF, "keywords": []}).json()
    # The creator ranked last without keywords starts writing about sunscreen.
    last = plain["entries"][-1]["creator"]["creator_id"]
    payload = next(p for p in WORLD if p["creator_id"] == last)
    posts = ["My SPF routine: sunscreen every morning", "beach day", "Sunscreen myths, busted"]
    updated = _with_texts(payload, "Dermatology nerd. Sunscreen first.", posts)
    assert client.post("/v1/creators/bulk", json={"creators": [updated]}).json()["updated"] == 1
    boosted = client.post("/v1/briefs", json=BRIEF).json()
    ranks = {e["creator"]["creator_id"]: e for e in boosted["entries"]}
    entry = ranks[last]
    before = plain["entries"][-1]
    assert entry["match_score"] == pytest.approx(min(1.0, before["match_score"] + kw.FULL_BOOST), abs=1e-3)
    assert entry["rank"] < before["rank"]
    (reason,) = [r for r in entry["reasons"] if r["code"] == "keywords"]
    assert reason["text"].startswith("bio and recent posts mention 'sunscreen' (1 of 1 keywords; 2 recent")
    assert (reason["value"], reason["reference"], reason["direction"]) == (1, 1, 1)
    # Creators who write nothing about it are told so (the demo world's beauty creators sometimes do).
    others = [r for e in boosted["entries"] if e["creator"]["creator_id"] != last
              for r in e["reasons"] if r["code"] == "keywords"]  # fmt: skip
    misses = [r for r in others if r["direction"] == -1]
    assert misses and all("no mention of 'sunscreen'" in r["text"] for r in misses)


def test_keyword_matches_whole_words_in_every_text() -> None:
    creator = CreatorIn.model_validate(
        {**WORLD[0], "name": "Glow Lab", "bio": "clean beauty, SPF-obsessed", "categories": ["beauty"],
         "recent_posts": ["new spfx filter", "Clean   Beauty haul"]}
    )  # fmt: skip
    m = kw.match(["spf", "clean beauty", "glow", "sunscreen"], creator)
    assert m.found == {"spf": ("bio",), "clean beauty": ("bio", "recent posts"), "glow": ("name",)}
    assert m.share == 0.75 and m.posts_mentioning == 1
    reason = kw.reason(m, None)
    assert reason is not None
    # One source takes "mentions", several (or a plural one) "mention": read by people as a sentence.
    assert reason.text.startswith(
        "bio mentions 'spf'; bio and recent posts mention 'clean beauty'; name mentions 'glow' (3 of 4 "
        "keywords; 1 recent post mentions them;"
    )


def test_lessons_and_live_trends_show_on_the_next_brief_in_their_scope(
    client: TestClient, runtime: Runtime
) -> None:
    now = datetime.now(UTC)
    lesson = LessonRecorded(lesson_id="les-1", campaign_id="cmp-old", scope="market", scope_value="GB",
                            text="GB beauty audiences ignore discount codes", author="olga@tandem",
                            recorded_at=now)  # fmt: skip
    elsewhere = lesson.model_copy(update={"lesson_id": "les-2", "scope_value": "BR", "text": "BR only"})
    live = TrendCalled(trend_id="tr-1", market="US", platform="tiktok", topic_or_format="reel",
                       direction="up", confidence=0.7, expires_on=date.today() + timedelta(days=30),
                       reason="SPF 'shelfie' reels are taking off", author="ann@tandem", called_at=now)  # fmt: skip
    expired = live.model_copy(update={"trend_id": "tr-2", "expires_on": date.today() - timedelta(days=1)})
    for event in (lesson, elsewhere, live, expired, lesson):  # the lesson delivered twice is stored once
        _apply(runtime, event)
    out = client.post("/v1/briefs", json=BRIEF).json()
    assert [(x["insight_id"], x["text"], x["author"]) for x in out["lessons"]] == [
        ("les-1", "GB beauty audiences ignore discount codes", "olga@tandem")
    ]
    assert [(x["insight_id"], x["direction"], x["author"]) for x in out["trends"]] == [
        ("tr-1", "up", "ann@tandem")
    ]
    again = client.get(f"/v1/campaigns/{out['campaign_id']}/shortlist").json()
    assert [x["insight_id"] for x in again["lessons"]] == ["les-1"]
    ru = client.post("/v1/briefs", json={**BRIEF, "target_markets": ["RU"]}).json()
    assert ru["lessons"] == [] and ru["trends"] == []
