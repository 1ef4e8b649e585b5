"""The identity database's migrations: its unused inbound_message table is dropped (the ids live in the
receiving services' databases), and a downgrade brings it back as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from shared.db import alembic_config, make_engine, migrate
from shared.runtime import IDENTITY_MIGRATIONS


def _tables_and_indexes(url: str) -> tuple[set[str], set[str]]:
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names())
        return tables, {
            i["name"] for i in inspector.get_indexes("inbound_message")
        } if "inbound_message" in tables else set()
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def identity_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'identity.db'}"
    make: Callable[[str], str] = request.getfixturevalue("postgres_database")
    return make("identity")


def test_the_identity_database_has_no_inbound_message_table_and_a_downgrade_restores_it(
    identity_url: str,
) -> None:
    migrate(identity_url, IDENTITY_MIGRATIONS)
    tables, _ = _tables_and_indexes(identity_url)
    assert "inbound_message" not in tables
    assert {"api_key", "inbound_source", "webhook_endpoint"} <= tables
    cfg = alembic_config(identity_url, IDENTITY_MIGRATIONS)
    command.downgrade(cfg, "0006")
    tables, indexes = _tables_and_indexes(identity_url)
    assert "inbound_message" in tables and "ix_inbound_message_received_at" in indexes
    command.upgrade(cfg, "heads")
    assert "inbound_message" not in _tables_and_indexes(identity_url)[0]
