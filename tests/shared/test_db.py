"""insert_many: the batch writes the stream paths go through (executemany; COPY for large batches on
PostgreSQL), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlmodel import select

from services.fraud.models import FraudScore
from shared.db import COPY_FROM, Database, existing, insert_many, migrate

FRAUD_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "fraud" / "migrations"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        make: Callable[[str], str] = request.getfixturevalue("postgres_database")
        url = make("insert_many")
    migrate(url, FRAUD_MIGRATIONS)
    return Database(url)


def _row(creator: str, risk: float, reasons: object) -> dict[str, object]:
    return {"org_id": "o", "creator_id": creator, "risk": risk, "level": "low", "reasons": reasons,
            "model_name": "m", "model_version": "1", "scored_at": datetime(2026, 1, 1, tzinfo=UTC)}  # fmt: skip


def _stored(db: Database) -> dict[str, tuple[float, object]]:
    with db.transaction() as s:
        return {r.creator_id: (r.risk, r.reasons) for r in s.exec(select(FraudScore))}


def test_upsert_replaces_existing_rows_and_inserts_new_ones(db: Database) -> None:
    with db.transaction() as s:
        insert_many(s, FraudScore, [_row("a", 0.1, []), _row("b", 0.2, [])])
    reasons = [{"code": "x", "text": 'ünïcode "quoted"'}]
    with db.transaction() as s:
        insert_many(s, FraudScore, [_row("b", 0.9, orjson.Fragment(orjson.dumps(reasons))), _row("c", 0.3, [])],
                    upsert_on=("org_id", "creator_id"))  # fmt: skip
    assert _stored(db) == {"a": (0.1, []), "b": (0.9, reasons), "c": (0.3, [])}


def test_plain_insert_still_refuses_an_existing_key(db: Database) -> None:
    with db.transaction() as s:
        insert_many(s, FraudScore, [_row("a", 0.1, [])])
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), db.transaction() as s:
        insert_many(s, FraudScore, [_row("a", 0.5, [])])
    assert _stored(db) == {"a": (0.1, [])}


def test_existing_names_the_stored_values_among_those_asked(db: Database) -> None:
    with db.transaction() as s:
        insert_many(s, FraudScore, [_row(c, 0.1, []) for c in ("a", "b", "it's")])
    with db.transaction() as s:
        assert existing(s, FraudScore, "creator_id", ["b", "z", "it's", "a"]) == {"a", "b", "it's"}
        assert existing(s, FraudScore, "creator_id", ["nope"]) == set()
        assert existing(s, FraudScore, "creator_id", []) == set()


def _batch(prefix: str, n: int, risk: float) -> list[dict[str, object]]:
    return [_row(f"{prefix}{i}", risk, [{"code": "c", "i": i}] if i % 2 else orjson.Fragment(b"[]"))
            for i in range(n)]  # fmt: skip


@pytest.mark.parametrize("size", [COPY_FROM - 1, COPY_FROM, 5 * COPY_FROM])
def test_large_batches_store_the_same_as_small_ones(db: Database, size: int) -> None:
    """On PostgreSQL a batch of COPY_FROM rows or more goes through COPY (upserts through a stage table):
    the stored rows, the JSON values and the last-row-of-a-key-wins rule are those of executemany."""
    first, second = _batch("k", size, 0.1), _batch("k", size, 0.7)
    with db.transaction() as s:
        insert_many(s, FraudScore, first)
    with db.transaction() as s:  # every key again, plus one key twice within the batch
        insert_many(
            s, FraudScore, [*second, _row("k0", 0.9, [{"last": True}])], upsert_on=("org_id", "creator_id")
        )
    stored = _stored(db)
    assert len(stored) == size
    assert stored["k0"] == (0.9, [{"last": True}])
    assert stored["k1"] == (0.7, [{"code": "c", "i": 1}]) and stored["k2"] == (0.7, [])
    with db.transaction() as s:  # within one transaction the stage is emptied after each batch
        insert_many(s, FraudScore, _batch("m", size, 0.2))
        insert_many(s, FraudScore, _batch("n", size, 0.3), upsert_on=("org_id", "creator_id"))
    assert len(_stored(db)) == 3 * size


def test_a_large_batch_refuses_an_over_long_id_instead_of_cutting_it(db: Database) -> None:
    rows = _batch("x", COPY_FROM, 0.1)
    rows[-1] = _row("y" * 65, 0.1, [])  # the column holds 64
    if db.url.startswith("sqlite"):
        pytest.skip("SQLite does not enforce VARCHAR lengths (the API's limits do)")
    for upsert in ((), ("org_id", "creator_id")):
        with pytest.raises(Exception, match=r"(?i)too long"), db.transaction() as s:
            insert_many(s, FraudScore, rows, upsert_on=upsert)
    assert _stored(db) == {}
