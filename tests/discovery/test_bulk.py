"""The bulk upserts (COPY on PostgreSQL, executemany on SQLite): idempotent, changes keep fraud scores,
what they store and announce matches the ORM path's."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlmodel import col, select

from services.discovery import bulk, bulk_sqlite, catalog
from services.discovery.models import Creator, CreatorMarket, CreatorMetric
from services.discovery.schemas import CreatorIn
from shared.bus.outbox import Outbox
from shared.bus.tables import OutboxMessage
from shared.db import Database, migrate
from shared.events import CreatorUpserted, FraudScored, parse_envelope, unwrap
from tandem.synthetic import generate_world

REPO = Path(__file__).resolve().parents[2]
ORG = "acme"


@pytest.fixture
def pg(postgres_database: Callable[[str], str]) -> Iterator[Database]:
    url = postgres_database("bulk")
    migrate(url, REPO / "services" / "discovery" / "migrations")
    db = Database(url)
    yield db
    db.close()


@pytest.fixture(params=["postgresql", "sqlite"])
def db(
    request: pytest.FixtureRequest, postgres_database: Callable[[str], str], tmp_path: Path
) -> Iterator[Database]:
    """Each backend with its bulk path: COPY on PostgreSQL, executemany on SQLite."""
    url = postgres_database("bulk") if request.param == "postgresql" else f"sqlite:///{tmp_path / 'bulk.db'}"
    migrate(url, REPO / "services" / "discovery" / "migrations")
    database = Database(url)
    yield database
    database.close()


def _creators(n: int) -> list[CreatorIn]:
    return [CreatorIn.model_validate(p) for p in generate_world(n, seed=4).payloads()]


def _awkward(creators: list[CreatorIn]) -> list[CreatorIn]:
    """Values binary COPY must carry verbatim: tabs, newlines, backslashes, quotes, non-ASCII, NULLs."""
    first, second, third = creators[:3]
    handle = first.accounts[0].model_copy(update={"handle": 'a\\b"c\td'})
    return [
        first.model_copy(update={"name": 'Tab\there\nnew "line" \\ back', "accounts": [handle, *first.accounts[1:]]}),
        second.model_copy(update={"name": "Ёлка 🎄 Müller", "price_usd": None, "audience_female_share": None,
                                  "audience_age": {}}),
        third.model_copy(update={"audience": [], "categories": [], "languages": [], "home_market": "",
                                 "top_audience_market": "PT", "measured_on": date(2022, 11, 1),
                                 "tags": ["asmr"]}),
        # a top audience country that is also measured gets no second, unknown-share row
        creators[3].model_copy(update={"top_audience_market": creators[3].audience[0].market}),
        *creators[4:],
    ]  # fmt: skip


Stored = tuple[
    dict[str, dict[str, Any]],
    list[tuple[Any, ...]],
    list[dict[str, Any]],
    list[tuple[Any, ...]],
    list[tuple[Any, ...]],
]


def _stored(db: Database) -> Stored:
    """Creator rows (without the write time), market rows, and the announced events' payloads."""
    with db.transaction() as session:
        creators = {c.creator_id: c.model_dump(exclude={"updated_at"}) for c in session.exec(select(Creator))}
        markets = sorted(
            (m.creator_id, m.market, m.audience_share, m.engagement_rate, m.platform_mask, m.category_mask,
             m.fraud_risk, m.followers, m.share_known)
            for m in session.exec(select(CreatorMarket))
        )  # fmt: skip
        events = []
        for row in session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))):
            event = unwrap(parse_envelope(row.value))
            assert isinstance(event, CreatorUpserted) and row.key == event.creator_id
            assert row.headers["event_id"] == row.event_id == str(parse_envelope(row.value).event_id)
            # Both paths stamp the producer: consumers dead-letter events without it.
            assert row.headers["producer"] == parse_envelope(row.value).producer == "discovery"
            events.append(event.model_dump(exclude={"updated_at"}))
        texts = sorted(tuple(r) for r in session.execute(text("SELECT * FROM creator_text")))
        metrics = sorted(tuple(m.model_dump().values()) for m in session.exec(select(CreatorMetric)))
    return creators, markets, events, texts, metrics


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_bulk_upsert_stores_what_the_orm_path_stores(
    backend: str, postgres_database: Callable[[str], str], tmp_path: Path
) -> None:
    creators = _awkward(_creators(12))
    stored: list[Stored] = []
    fast = bulk.copy_upsert if backend == "postgresql" else bulk_sqlite.upsert
    for i, write in enumerate((fast, catalog.upsert_creators)):
        url = (
            postgres_database("bulk_vs_orm")
            if backend == "postgresql"
            else f"sqlite:///{tmp_path / f'{i}.db'}"
        )
        migrate(url, REPO / "services" / "discovery" / "migrations")
        db = Database(url)
        with db.transaction() as session:
            write(session, ORG, creators, Outbox("discovery"))
        stored.append(_stored(db))
        db.close()
    (fast_rows, fast_markets, fast_events, fast_texts, fast_metrics), orm = stored
    assert (fast_rows, fast_markets, fast_events) == orm[:3]
    assert fast_texts == orm[3] and len(fast_texts) == 12, "text search sees both paths alike"
    assert fast_metrics == orm[4] and len(fast_metrics) == sum(len(c.accounts) for c in creators)
    assert fast_rows[creators[0].creator_id]["name"] == 'Tab\there\nnew "line" \\ back'
    assert fast_rows[creators[1].creator_id]["price_usd"] is None and len(fast_events) == 12
    assert fast_rows[creators[2].creator_id]["measured_on"] == date(2022, 11, 1)
    assert (creators[2].creator_id, "PT", 0.0) in {m[:3] for m in fast_markets if m[-1] is False}


@pytest.mark.parametrize("write", [bulk.copy_upsert, catalog.upsert_creators])
def test_an_older_or_undated_measurement_never_replaces_a_newer_one(pg: Database, write: Any) -> None:
    base = _creators(1)[0]
    november = base.model_copy(update={"name": "November", "measured_on": date(2022, 11, 1)})
    june = base.model_copy(update={"name": "June", "measured_on": date(2022, 6, 1)})
    undated = base.model_copy(update={"name": "Undated", "measured_on": None})
    december = base.model_copy(update={"name": "December", "measured_on": date(2022, 12, 1)})
    results = []
    for item in (november, june, undated, december):
        with pg.transaction() as session:
            results.append(write(session, ORG, [item], Outbox("discovery")))
            row = session.get(Creator, (ORG, base.creator_id))
            assert row is not None
            results.append((row.name, row.measured_on))
    assert results[1] == ("November", date(2022, 11, 1))
    assert results[2].older == 1 and results[3] == ("November", date(2022, 11, 1)), "June is older"
    assert results[4].older == 1 and results[5] == ("November", date(2022, 11, 1)), "undated is no newer"
    assert results[6].updated == 1 and results[7] == ("December", date(2022, 12, 1))


def test_event_ids_are_unique_time_ordered_uuids() -> None:
    now = datetime.now(UTC)
    ids = [uuid.UUID(i.decode()) for i in bulk.event_ids(now, 5000)]
    assert len(set(ids)) == 5000
    assert {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}
    assert {i.int >> 80 for i in ids} == {int(now.timestamp() * 1000)}
    later = bulk.event_ids(now + timedelta(milliseconds=2), 1)[0]
    assert max(str(i) for i in ids) < later.decode()


def test_bulk_upsert_updates_changed_creators_and_keeps_fraud_scores(db: Database) -> None:
    pg = db
    creators, outbox = _creators(30), Outbox("discovery")
    with pg.transaction() as session:
        first = bulk.upsert(session, ORG, creators, outbox)
    scored = FraudScored(creator_id=creators[0].creator_id, risk=0.3, level="medium", reasons=[],
                         model_name="fraud_risk", model_version="1", scored_at=datetime.now(UTC))  # fmt: skip
    with pg.transaction() as session:
        catalog.apply_fraud_score(session, ORG, scored)
    changed = creators[0].model_copy(
        update={"name": "Renamed \t Creator", "audience": creators[0].audience[:1]}
    )
    with pg.transaction() as session:
        second = bulk.upsert(session, ORG, [changed, *creators[1:]], outbox)
    assert (first.created, first.updated, first.unchanged) == (30, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 1, 29)
    with pg.transaction() as session:
        row = session.get(Creator, (ORG, changed.creator_id))
        assert row is not None
        assert (row.name, row.fraud_risk) == ("Renamed \t Creator", 0.3)
        markets = session.exec(
            select(CreatorMarket).where(CreatorMarket.creator_id == changed.creator_id)
        ).all()
        assert [m.market for m in markets] == [changed.audience[0].market]
        rows = list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))
    assert len(rows) == 31
    last = unwrap(parse_envelope(rows[-1].value))
    assert isinstance(last, CreatorUpserted)
    assert last.name == "Renamed \t Creator"


def test_bulk_ingest_analyses_a_fresh_catalogue_once(pg: Database) -> None:
    """Planner statistics right after a load (not a minute later, by autovacuum); a re-sent body changes
    nothing, so it does not analyse again."""
    body = orjson.dumps({"creators": [c.model_dump(mode="json") for c in _creators(40)]})
    analysed = text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'creator_market'")
    bulk.ingest_json(pg, ORG, body, Outbox("discovery"))
    with pg.transaction() as session:
        first = session.execute(analysed).scalar()
        assert (
            session.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'creator'")).scalar() == 40
        )
    bulk.ingest_json(pg, ORG, body, Outbox("discovery"))
    with pg.transaction() as session:
        assert first is not None and session.execute(analysed).scalar() == first


def test_bulk_upsert_keeps_the_history_the_orm_path_keeps(db: Database) -> None:
    """A new creator's points; a changed creator's figures of the same day replace that day's point, a
    later measurement adds one: as the ORM path leaves them (each path under its own org)."""
    creators = [c.model_copy(update={"measured_on": None}) for c in _creators(6)]
    same_day = [
        c.model_copy(
            update={"accounts": [a.model_copy(update={"followers": a.followers + 7}) for a in c.accounts]}
        )
        for c in creators[:2]
    ]
    later = creators[2].model_copy(update={"measured_on": date(2024, 5, 1), "name": "Measured"})
    points: dict[str, list[tuple[Any, ...]]] = {}
    for org, write in (("fast", bulk.upsert), ("orm", catalog.upsert_creators)):
        for batch in (creators, [*same_day, later]):
            with db.transaction() as session:
                write(session, org, batch, Outbox("discovery"))
        with db.transaction() as session:
            stored = session.exec(select(CreatorMetric).where(CreatorMetric.org_id == org))
            points[org] = sorted((m.creator_id, m.platform, m.measured_on, m.followers, m.engagement_rate)
                                 for m in stored)  # fmt: skip
    assert points["fast"] == points["orm"]
    assert len(points["fast"]) == sum(len(c.accounts) for c in creators) + len(later.accounts)
    today = {(cid, platform): followers for cid, platform, day, followers, _ in points["fast"]
             if day == datetime.now(UTC).date()}  # fmt: skip
    first = same_day[0].accounts[0]
    assert today[(same_day[0].creator_id, first.platform)] == first.followers
