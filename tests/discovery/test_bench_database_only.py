"""The discovery benchmark's database-only ingest (benchmarks/bench_discovery.py) sends PostgreSQL what a
bulk request sends: its rate is only a fair stand-in for the ingest's database share if the work is the
same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

from benchmarks import bench_discovery as bench
from services.discovery import bulk
from shared.bus.outbox import Outbox
from shared.db import Database, migrate

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "discovery" / "migrations"
# The outbox's event ids and envelopes carry the time of writing: the events are compared by topic, key
# and size.
QUERIES = {
    "creator": "SELECT * FROM creator ORDER BY creator_id",
    "creator_market": "SELECT * FROM creator_market ORDER BY creator_id, market",
    "creator_text": "SELECT * FROM creator_text ORDER BY creator_id",
    "creator_metric": "SELECT * FROM creator_metric ORDER BY creator_id, platform",
    "outbox_message": "SELECT topic, key, length(value) FROM outbox_message ORDER BY key",
}
WRITE_TIME = {"updated_at"}  # the creator row's time of writing


def _tables(db: Database) -> dict[str, list[dict[str, Any]]]:
    with db.transaction() as session:
        return {
            table: [
                {k: v for k, v in row._mapping.items() if k not in WRITE_TIME}
                for row in session.execute(text(q))
            ]
            for table, q in QUERIES.items()
        }


def test_replayed_statements_store_what_the_bulk_request_stores(
    postgres_database: Callable[[str], str],
) -> None:
    body = orjson.dumps({"creators": bench.Generator(seed=3).batch(0, 400)})
    urls = [postgres_database(label) for label in ("api", "replay")]
    for url in urls:
        migrate(url, MIGRATIONS)
    through_api, replayed = (Database(url) for url in urls)
    bulk.ingest_json(through_api, bench.ORG, body, Outbox("discovery"))
    requests = bench._render(body)
    assert [kind for kind, _, _ in requests].count("copy") >= 5  # creators, markets, texts, outbox, history
    bench._replay(replayed, requests)
    expected, got = _tables(through_api), _tables(replayed)
    assert len(expected["creator"]) == 400 and len(expected["outbox_message"]) == 400
    assert got == expected
