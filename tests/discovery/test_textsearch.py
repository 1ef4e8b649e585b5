"""Text search on both databases: exact handle first, then names (misspelt too), then bio words."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.discovery import bulk
from services.discovery.schemas import CreatorIn, SearchIn
from services.discovery.search import search
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from tandem.synthetic import generate_world

REPO = Path(__file__).resolve().parents[2]
ORG = "acme"


def _creator(base: CreatorIn, cid: str, name: str, handle: str, bio: str) -> CreatorIn:
    account = base.accounts[0].model_copy(update={"handle": handle})
    return base.model_copy(update={"creator_id": cid, "name": name, "accounts": [account], "bio": bio})


def _catalogue() -> list[CreatorIn]:
    world = [CreatorIn.model_validate(p) for p in generate_world(60, seed=3).payloads()]
    b = world[0]
    return [
        *world,
        _creator(b, "c-ronaldo", "Cristiano Ronaldo", "cristiano", "Footballer. Family and training."),
        # a name that contains the other's handle: the exact handle must still come first
        _creator(b, "c-fan", "Cristiano Fan Club", "cr7_fans", "All about cristiano every day"),
        _creator(b, "c-baker", "Maria Lopez", "maria_bakes", "Sourdough bread and pastry recipes"),
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'discovery.db'}"
    else:
        factory: Callable[[str], str] = request.getfixturevalue("postgres_database")
        url = factory("textsearch")
    migrate(url, REPO / "services" / "discovery" / "migrations")
    database = Database(url)
    with database.transaction() as session:
        bulk.upsert(session, ORG, _catalogue(), Outbox("discovery"))
    yield database
    database.close()


def _ids(db: Database, text: str, **filters: object) -> list[str]:
    with db.transaction() as session:
        return [h.creator_id for h in search(session, ORG, SearchIn(text=text, **filters)).hits]  # type: ignore[arg-type]


def test_exact_handle_comes_first(db: Database) -> None:
    assert _ids(db, "cristiano")[0] == "c-ronaldo"
    assert _ids(db, "@maria_bakes") == ["c-baker"]


def test_name_and_misspelt_name_are_found(db: Database) -> None:
    assert _ids(db, "Maria Lopez")[0] == "c-baker"
    assert _ids(db, "Cristiano Ronaldoo")[0] == "c-ronaldo"
    assert "c-baker" in _ids(db, "Mariia Lopes")


def test_bio_word_finds_the_creator_after_name_matches(db: Database) -> None:
    assert _ids(db, "sourdough") == ["c-baker"]
    found = _ids(db, "cristiano")
    assert found.index("c-ronaldo") < found.index("c-fan")


def test_text_search_keeps_the_other_filters(db: Database) -> None:
    assert _ids(db, "sourdough", min_followers=2 * 10**9) == []


def test_exact_handle_is_found_among_many_look_alikes(db: Database) -> None:
    """More similar handles than the ranked candidates (h1400_instagram ... h2099_instagram): the typed one still wins."""
    base = _catalogue()[0]
    alikes = [
        _creator(base, f"c-h{n}", f"Look Alike {n}", f"h{n}_instagram", "")
        for n in range(1400, 2100)
        if n != 1411
    ]
    with db.transaction() as session:
        bulk.upsert(
            session,
            ORG,
            [*alikes, _creator(base, "c-typed", "Typed", "h1411_instagram", "")],
            Outbox("discovery"),
        )
    assert _ids(db, "h1411_instagram")[0] == "c-typed"
