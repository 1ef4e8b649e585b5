"""The creator catalogue on SQLite: idempotent upserts announced through the outbox, scores and history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from services.discovery import catalog
from services.discovery.models import Creator, CreatorMarket
from services.discovery.schemas import BulkResult, CreatorIn
from shared.bus.outbox import Outbox
from shared.bus.tables import OutboxMessage
from shared.db import Database, migrate
from shared.events import (
    CreatorSnapshot,
    CreatorUpserted,
    FraudScored,
    Reason,
    ReviewDecided,
    parse_envelope,
    unwrap,
)
from tandem.synthetic import generate_world

REPO = Path(__file__).resolve().parents[2]
ORG = "acme"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'discovery.db'}"
    migrate(url, REPO / "services" / "discovery" / "migrations")
    database = Database(url)
    yield database
    database.close()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox("discovery")


def _creators(n: int = 5) -> list[CreatorIn]:
    return [CreatorIn.model_validate(p) for p in generate_world(n, seed=3).payloads()]


def _upsert(db: Database, outbox: Outbox, creators: list[CreatorIn], org_id: str = ORG) -> BulkResult:
    with db.transaction() as session:
        return catalog.upsert_creators(session, org_id, creators, outbox)


def _outbox_rows(db: Database) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def _score(creator_id: str, risk: float, at: datetime) -> FraudScored:
    return FraudScored(creator_id=creator_id, risk=risk, level="high" if risk >= 0.6 else "low",
                       reasons=[Reason(code="c", text="t")], model_name="fraud_risk", model_version="1",
                       scored_at=at)  # fmt: skip


def test_upsert_new_creators_creates_and_announces_each(db: Database, outbox: Outbox) -> None:
    creators = _creators()
    result = _upsert(db, outbox, creators)
    assert result == BulkResult(received=5, created=5, updated=0, unchanged=0)
    rows = _outbox_rows(db)
    assert [r.key for r in rows] == [c.creator_id for c in creators]
    event = unwrap(parse_envelope(rows[0].value))
    assert isinstance(event, CreatorUpserted)
    assert event.accounts == creators[0].accounts
    assert parse_envelope(rows[0].value).org_id == ORG


def test_upsert_same_creators_twice_is_unchanged_without_new_events(db: Database, outbox: Outbox) -> None:
    creators = _creators()
    _upsert(db, outbox, creators)
    before = len(_outbox_rows(db))
    again = _upsert(db, outbox, [CreatorIn.model_validate(c.model_dump()) for c in creators])
    assert again == BulkResult(received=5, created=0, updated=0, unchanged=5)
    assert len(_outbox_rows(db)) == before


def test_upsert_changed_creator_updates_it_and_emits_one_event(db: Database, outbox: Outbox) -> None:
    creators = _creators()
    _upsert(db, outbox, creators)
    before = len(_outbox_rows(db))
    changed = creators[2].model_copy(update={"name": "Renamed"})
    result = _upsert(db, outbox, [*creators[:2], changed, *creators[3:]])
    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    rows = _outbox_rows(db)
    assert len(rows) == before + 1
    event = unwrap(parse_envelope(rows[-1].value))
    assert isinstance(event, CreatorUpserted)
    assert (event.creator_id, event.name) == (creators[2].creator_id, "Renamed")
    with db.transaction() as session:
        row = session.get(Creator, (ORG, creators[2].creator_id))
        assert row is not None
        assert row.name == "Renamed"


def test_upsert_replaces_audience_markets(db: Database, outbox: Outbox) -> None:
    creator = _creators(1)[0]
    _upsert(db, outbox, [creator])
    audience = [{"market": "BR", "audience_share": 0.9, "engagement_rate": 0.02}]
    _upsert(db, outbox, [CreatorIn.model_validate({**creator.model_dump(), "audience": audience})])
    with db.transaction() as session:
        markets = list(
            session.exec(select(CreatorMarket).where(CreatorMarket.creator_id == creator.creator_id))
        )
    assert [(m.market, m.audience_share) for m in markets] == [("BR", 0.9)]


def test_upsert_stores_followers_of_largest_account(db: Database, outbox: Outbox) -> None:
    creators = _creators(20)
    _upsert(db, outbox, creators)
    with db.transaction() as session:
        for c in creators:
            row = session.get(Creator, (ORG, c.creator_id))
            assert row is not None
            assert row.followers == max(a.followers for a in c.accounts)


def test_upsert_repeated_payload_in_one_batch_counts_once(db: Database, outbox: Outbox) -> None:
    creator = _creators(1)[0]
    result = _upsert(db, outbox, [creator, creator])
    assert (result.received, result.created, result.unchanged) == (2, 1, 1)
    assert len(_outbox_rows(db)) == 1


def test_upsert_two_versions_in_one_batch_keeps_the_last(db: Database, outbox: Outbox) -> None:
    creator = _creators(1)[0]
    audience = [{"market": "BR", "audience_share": 0.9, "engagement_rate": 0.02}]
    second = CreatorIn.model_validate({**creator.model_dump(), "name": "Second", "audience": audience})
    result = _upsert(db, outbox, [creator, second])
    assert (result.created, result.updated) == (1, 1)
    [(row, view)] = _load(db, [creator.creator_id])
    assert row.name == "Second"
    assert [m.market for m in view.audience] == ["BR"]


def test_upsert_is_scoped_by_org(db: Database, outbox: Outbox) -> None:
    creators = _creators(3)
    _upsert(db, outbox, creators, org_id="a")
    assert _upsert(db, outbox, creators, org_id="b").created == 3
    with db.transaction() as session:
        assert catalog.stats(session, "a").creators == 3
        assert catalog.stats(session, "zzz").creators == 0


def _load(db: Database, ids: list[str]) -> list[tuple[Creator, CreatorIn]]:
    with db.transaction() as session:
        return catalog.load_creators(session, ORG, ids)


def test_load_creators_keeps_order_and_skips_unknown(db: Database, outbox: Outbox) -> None:
    creators = _creators(4)
    _upsert(db, outbox, creators)
    ids = [creators[3].creator_id, "cr-missing", creators[0].creator_id]
    loaded = _load(db, ids)
    assert [row.creator_id for row, _ in loaded] == [creators[3].creator_id, creators[0].creator_id]
    _, view = loaded[0]
    assert view.accounts == creators[3].accounts
    shares = [m.audience_share for m in view.audience]
    assert shares == sorted(shares, reverse=True)
    assert _load(db, []) == []


def test_apply_fraud_score_keeps_newest(db: Database, outbox: Outbox) -> None:
    cid = _creators(1)[0].creator_id
    _upsert(db, outbox, _creators(1))
    now = datetime.now(UTC)
    with db.transaction() as session:
        catalog.apply_fraud_score(session, ORG, _score(cid, 0.8, now))
    with db.transaction() as session:
        catalog.apply_fraud_score(session, ORG, _score(cid, 0.1, now - timedelta(hours=1)))  # late, older
    with db.transaction() as session:
        row = session.get(Creator, (ORG, cid))
        assert row is not None
        assert (row.fraud_risk, row.fraud_level, row.fraud_model) == (0.8, "high", "fraud_risk@1")
        catalog.apply_fraud_score(session, ORG, _score(cid, 0.2, now + timedelta(hours=1)))
    with db.transaction() as session:
        row = session.get(Creator, (ORG, cid))
        assert row is not None
        assert row.fraud_risk == 0.2
        assert catalog.stats(session, ORG).fraud_scored == 1


def test_apply_fraud_score_for_unknown_creator_is_ignored(db: Database) -> None:
    with db.transaction() as session:
        catalog.apply_fraud_score(session, ORG, _score("cr-nobody", 0.5, datetime.now(UTC)))
    with db.transaction() as session:
        assert session.exec(select(func.count()).select_from(Creator)).one() == 0


def test_record_decision_builds_history(db: Database, outbox: Outbox) -> None:
    creator = _creators(1)[0]
    _upsert(db, outbox, [creator])
    snap = CreatorSnapshot(creator_id=creator.creator_id, name=creator.name, home_market=creator.home_market,
                           platform="instagram", followers=1000, engagement_rate=0.02)  # fmt: skip

    def decided(campaign_id: str, decision: str) -> ReviewDecided:
        return ReviewDecided.model_validate({
            "decision_id": f"d-{campaign_id}", "task_id": "t", "campaign_id": campaign_id, "tier": "volume",
            "decision": decision, "automated": False, "decided_by": "ann", "route_reason": "r",
            "match_score": 0.5, "target_markets": ["US"], "creator": snap.model_dump(),
            "decided_at": datetime.now(UTC),
        })  # fmt: skip

    with db.transaction() as session:
        catalog.record_decision(session, ORG, decided("c1", "approve"))
        catalog.record_decision(session, ORG, decided("c2", "reject"))
    with db.transaction() as session:
        catalog.record_decision(session, ORG, decided("c2", "approve"))  # changed mind: same row
    with db.transaction() as session:
        past = catalog.history(session, ORG, [creator.creator_id, "cr-other"])
    assert sorted((c.campaign_id, c.decision) for c in past[creator.creator_id]) == [
        ("c1", "approve"),
        ("c2", "approve"),
    ]
    assert past["cr-other"] == []
