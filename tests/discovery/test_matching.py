"""Shortlists: market diversity, reasons with numbers, and the whole build on a generated catalogue."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from services.discovery import catalog, matching
from services.discovery.features import fit
from services.discovery.matching import Scored, build_shortlist, diversify, reasons
from services.discovery.models import Campaign, Collaboration, Creator, Shortlist
from services.discovery.schemas import BriefIn, CreatorIn
from shared.bus.outbox import Outbox
from shared.bus.tables import OutboxMessage
from shared.db import Database, migrate
from shared.events import FraudScored, ShortlistPublished, parse_envelope, unwrap
from shared.model_registry import ModelRegistry
from shared.onnx_model import OnnxModel
from tandem.synthetic import generate_world

REPO = Path(__file__).resolve().parents[2]
ORG = "acme"
ALL_PLATFORMS = ["instagram", "tiktok", "youtube", "vk", "telegram"]


def _brief(**overrides: Any) -> BriefIn:
    fields: dict[str, Any] = {"name": "b", "category": "beauty", "target_markets": ["US", "GB"],
                              "platforms": ["instagram"], "budget_usd": 10_000}  # fmt: skip
    return BriefIn.model_validate({**fields, **overrides})


def _creator(creator_id: str = "cr-1", home: str = "US") -> CreatorIn:
    return CreatorIn.model_validate({
        "creator_id": creator_id, "name": "Ann", "home_market": home, "languages": ["en"],
        "categories": ["beauty"], "price_usd": 1_000,
        "accounts": [{"platform": "instagram", "handle": "ann", "followers": 50_000, "engagement_rate": 0.02}],
        "audience": [{"market": "US", "audience_share": 0.5, "engagement_rate": 0.03},
                     {"market": "GB", "audience_share": 0.2, "engagement_rate": 0.01}],
    })  # fmt: skip


def _row(creator: CreatorIn, fraud_risk: float | None = 0.12, fraud_level: str = "low") -> Creator:
    return Creator(org_id=ORG, creator_id=creator.creator_id, name=creator.name, home_market=creator.home_market,
                   followers=50_000, content_hash="x", updated_at=datetime.now(UTC), fraud_risk=fraud_risk,
                   fraud_level=fraud_level, categories=creator.categories)  # fmt: skip


def _scored(n: int, home: str, score: float) -> Scored:
    creator = _creator(f"cr-{n}", home)
    return Scored(row=_row(creator), creator=creator, fit=fit(_brief(), creator, 5), score=score)


# --- diversify --------------------------------------------------------------------------------------


def test_diversify_caps_one_home_market_while_others_wait() -> None:
    ranked = [_scored(i, "US", 1 - i / 100) for i in range(8)] + [
        _scored(8, "BR", 0.5),
        _scored(9, "GB", 0.4),
    ]
    picked = diversify(ranked, size=5, max_share=0.6)
    assert len(picked) == 5
    homes = Counter(s.row.home_market for s in picked)
    assert homes["US"] == 3
    assert [s.row.creator_id for s in picked] == ["cr-0", "cr-1", "cr-2", "cr-8", "cr-9"]


def test_diversify_fills_with_held_creators_when_no_other_market() -> None:
    ranked = [_scored(i, "US", 1 - i / 100) for i in range(10)]
    picked = diversify(ranked, size=5, max_share=0.4)
    assert [s.row.creator_id for s in picked] == ["cr-0", "cr-1", "cr-2", "cr-3", "cr-4"]


def test_diversify_keeps_order_when_markets_are_mixed() -> None:
    ranked = [_scored(i, home, 1 - i / 100) for i, home in enumerate(["US", "BR", "US", "GB", "US", "BR"])]
    assert diversify(ranked, size=4, max_share=0.5) == ranked[:4]


def test_diversify_allows_at_least_one_per_market() -> None:
    ranked = [_scored(0, "US", 0.9), _scored(1, "US", 0.8), _scored(2, "BR", 0.7)]
    picked = diversify(ranked, size=2, max_share=0.1)
    assert [s.row.creator_id for s in picked] == ["cr-0", "cr-2"]


def test_diversify_returns_fewer_when_ranked_is_short() -> None:
    ranked = [_scored(0, "US", 0.9)]
    assert diversify(ranked, size=5, max_share=0.6) == ranked
    assert diversify([], size=5, max_share=0.6) == []


# --- reasons ----------------------------------------------------------------------------------------


def _reasons(
    row_risk: float | None = 0.12, level: str = "low", past: list[Collaboration] | None = None
) -> dict[str, Any]:
    creator = _creator()
    brief = _brief()
    scored = Scored(
        row=_row(creator, row_risk, level), creator=creator, fit=fit(brief, creator, 5), score=0.7
    )
    return {r.code: r for r in reasons(brief, scored, past or [])}


def test_reasons_give_numbers_and_comparisons() -> None:
    out = _reasons()
    assert out["audience_in_target"].text == "70% of the audience is in US/GB"
    assert out["audience_in_target"].value == pytest.approx(0.7)
    er = out["engagement_vs_tier"]
    assert er.text.startswith("2.4% engagement among US/GB followers vs 1.4% median for mid instagram")
    assert er.direction == 1
    assert out["multi_market"].text == "engagement above the tier median in 1 of 2 target markets"
    # no audience check yet: the quality is not made up from the risk score
    assert out["fraud_risk"].text == "low fraud risk (0.12); audience not checked yet"
    assert out["fraud_risk"].direction == 1
    assert out["price_vs_budget"].text == "estimated price $1,000 is 50% of the per-creator budget"
    assert out["category"].text == "creates beauty content"
    for code in ("audience_in_target", "engagement_vs_tier", "multi_market", "fraud_risk", "price_vs_budget"):
        assert re.search(r"\d", out[code].text), code


def test_reasons_unscored_creator_counts_against() -> None:
    out = _reasons(row_risk=None, level="unknown")
    assert "fraud_risk" not in out
    assert out["fraud_unscored"].direction == -1


def test_reasons_medium_fraud_counts_against() -> None:
    assert _reasons(row_risk=0.45, level="medium")["fraud_risk"].direction == -1


def test_reasons_history_counts_past_approvals() -> None:
    now = datetime.now(UTC)
    past = [Collaboration(org_id=ORG, creator_id="cr-1", campaign_id=f"c{i}", decision=d, automated=False,
                          decided_at=now) for i, d in enumerate(["approve", "reject"])]  # fmt: skip
    history = _reasons(past=past)["history"]
    assert history.text == "reviewed for 2 of our campaigns before, approved in 1"
    assert (history.value, history.reference) == (1, 2)


# --- build_shortlist on a generated catalogue -------------------------------------------------------


@pytest.fixture(scope="module")
def world_payloads() -> dict[str, dict[str, Any]]:
    return {p["creator_id"]: p for p in generate_world(300, seed=5).payloads()}


@pytest.fixture(scope="module")
def ranking_model() -> OnnxModel:
    return ModelRegistry(REPO / "models").load_champion("ranking")


@pytest.fixture(scope="module")
def catalogue(
    tmp_path_factory: pytest.TempPathFactory, world_payloads: dict[str, dict[str, Any]]
) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path_factory.mktemp('discovery') / 'discovery.db'}"
    migrate(url, REPO / "services" / "discovery" / "migrations")
    db = Database(url)
    with db.transaction() as session:
        creators = [CreatorIn.model_validate(p) for p in world_payloads.values()]
        result = catalog.upsert_creators(session, ORG, creators, Outbox("discovery"))
    assert result.created == 300
    yield db
    db.close()


def _target_share(payload: dict[str, Any], markets: list[str]) -> float:
    return sum(m["audience_share"] for m in payload["audience"] if m["market"] in markets)


def _build(db: Database, model: OnnxModel, brief: BriefIn, size: int = 10) -> matching.ShortlistResult:
    with db.transaction() as session:
        return build_shortlist(session, ORG, brief, model, Outbox("discovery"), owner="tester", size=size, pool=2000,
                               max_market_share=0.6)  # fmt: skip


def test_build_shortlist_returns_ranked_explained_entries_in_target_markets(
    catalogue: Database, ranking_model: OnnxModel, world_payloads: dict[str, dict[str, Any]]
) -> None:
    brief = _brief(
        target_markets=["US", "CA"], platforms=["instagram", "tiktok", "youtube"], min_target_share=0.2
    )
    result = _build(catalogue, ranking_model, brief, size=8)
    entries = result.event.entries
    assert 0 < len(entries) <= 8
    assert result.candidates_considered >= len(entries)
    assert [e.rank for e in entries] == list(range(1, len(entries) + 1))
    for e in entries:
        assert e.reasons
        assert {r.code for r in e.reasons} >= {"audience_in_target", "engagement_vs_tier"}
        assert _target_share(world_payloads[e.creator.creator_id], brief.target_markets) >= 0.2 - 1e-9
        assert e.creator.platform in brief.platforms
        assert 0 <= e.match_score <= 1
    assert result.event.model_name == "ranking"


def test_build_shortlist_stores_campaign_shortlist_and_event(
    catalogue: Database, ranking_model: OnnxModel
) -> None:
    result = _build(catalogue, ranking_model, _brief(target_markets=["US"], platforms=ALL_PLATFORMS), size=5)
    with catalogue.transaction() as session:
        campaign = session.get(Campaign, result.campaign.campaign_id)
        assert campaign is not None
        assert campaign.brief["target_markets"] == ["US"]
        stored = session.exec(select(Shortlist).where(Shortlist.campaign_id == campaign.campaign_id)).one()
        assert len(stored.entries) == len(result.event.entries)
        events = [unwrap(parse_envelope(r.value)) for r in session.exec(select(OutboxMessage))]
    published = [e for e in events if isinstance(e, ShortlistPublished)]
    assert result.event.shortlist_id in {e.shortlist_id for e in published}


def test_build_shortlist_for_ru_returns_creators_with_ru_audience(
    catalogue: Database, ranking_model: OnnxModel, world_payloads: dict[str, dict[str, Any]]
) -> None:
    brief = _brief(target_markets=["RU"], platforms=ALL_PLATFORMS, category="food", languages=[])
    entries = _build(catalogue, ranking_model, brief).event.entries
    assert entries
    for e in entries:
        assert _target_share(world_payloads[e.creator.creator_id], ["RU"]) >= brief.min_target_share


def test_build_shortlist_respects_size_exclusions_and_follower_range(
    catalogue: Database, ranking_model: OnnxModel, world_payloads: dict[str, dict[str, Any]]
) -> None:
    base = _brief(target_markets=["US"], platforms=ALL_PLATFORMS)
    first = _build(catalogue, ranking_model, base, size=3).event.entries
    assert len(first) == 3
    excluded = [e.creator.creator_id for e in first]
    brief = base.model_copy(
        update={"exclude_creator_ids": excluded, "min_followers": 5_000, "max_followers": 200_000}
    )
    entries = _build(catalogue, ranking_model, brief).event.entries
    assert entries
    for e in entries:
        assert e.creator.creator_id not in excluded
        biggest = max(a["followers"] for a in world_payloads[e.creator.creator_id]["accounts"])
        assert 5_000 <= biggest <= 200_000


def test_build_shortlist_leaves_out_risky_creators(catalogue: Database, ranking_model: OnnxModel) -> None:
    brief = _brief(target_markets=["US"], platforms=ALL_PLATFORMS)
    top = _build(catalogue, ranking_model, brief, size=3).event.entries[0].creator.creator_id
    scored = FraudScored(creator_id=top, risk=0.95, level="high", reasons=[], model_name="fraud_risk",
                         model_version="1", scored_at=datetime.now(UTC))  # fmt: skip
    with catalogue.transaction() as session:
        catalog.apply_fraud_score(session, ORG, scored)
    try:
        lenient = _build(catalogue, ranking_model, brief.model_copy(update={"max_fraud_risk": 1.0}), size=200)
        strict = _build(catalogue, ranking_model, brief.model_copy(update={"max_fraud_risk": 0.5}), size=200)
        entry = next(e for e in lenient.event.entries if e.creator.creator_id == top)
        assert (entry.fraud_risk, entry.fraud_level) == (0.95, "high")
        assert top not in {e.creator.creator_id for e in strict.event.entries}
        assert strict.candidates_considered == lenient.candidates_considered - 1
    finally:
        with catalogue.transaction() as session:
            row = session.get(Creator, (ORG, top))
            assert row is not None
            row.fraud_risk, row.fraud_level, row.fraud_scored_at = None, "unknown", None
            session.add(row)


def test_build_shortlist_with_no_candidates_is_empty(catalogue: Database, ranking_model: OnnxModel) -> None:
    brief = _brief(target_markets=["US"], platforms=["instagram"], min_followers=10**9)
    result = _build(catalogue, ranking_model, brief)
    assert result.event.entries == []
    assert result.candidates_considered == 0


@pytest.mark.parametrize(("markets", "min_share"), [(["US"], 0.3), (["RU", "KZ"], 0.5), (["BR"], 0.05)])
def test_build_shortlist_considers_exactly_the_qualifying_creators(
    catalogue: Database,
    ranking_model: OnnxModel,
    world_payloads: dict[str, dict[str, Any]],
    markets: list[str],
    min_share: float,
) -> None:
    platforms = ["instagram", "youtube"]
    expected = [
        cid
        for cid, p in world_payloads.items()
        if _target_share(p, markets) >= min_share and any(a["platform"] in platforms for a in p["accounts"])
    ]
    brief = _brief(target_markets=markets, platforms=platforms, min_target_share=min_share)
    result = _build(catalogue, ranking_model, brief, size=200)
    assert result.candidates_considered == len(expected) > 0
    assert sorted(e.creator.creator_id for e in result.event.entries) == sorted(expected)
