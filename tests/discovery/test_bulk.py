"""The COPY upsert on PostgreSQL: idempotent, changes keep fraud scores, events match the ORM path's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from services.discovery import bulk, catalog
from services.discovery.models import Creator, CreatorMarket
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


def _creators(n: int) -> list[CreatorIn]:
    return [CreatorIn.model_validate(p) for p in generate_world(n, seed=4).payloads()]


def test_copy_text_escapes_tabs_newlines_and_backslashes() -> None:
    assert bulk.copy_text([("a\tb", "c\nd", "e\\f", None, {"k": "v\\"})]) == (
        b'a\\tb\tc\\nd\te\\\\f\t\\N\t{"k":"v\\\\\\\\"}\n'
    )


def test_copy_upsert_updates_changed_creators_and_keeps_fraud_scores(pg: Database) -> None:
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
