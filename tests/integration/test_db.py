"""Migrations on the real PostgreSQL: the schema comes from Alembic, and replicas may migrate at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect

from shared.db import Database, migrate
from tandem.services import SERVICES

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", list(SERVICES))
def test_migrations_build_every_table_of_the_service(
    service: str, postgres_database: Callable[[str], str]
) -> None:
    url = postgres_database(f"mig_{service}")
    migrate(url, SERVICES[service].spec.migrations)
    db = Database(url)
    tables = set(inspect(db.engine).get_table_names())
    db.close()
    assert {"outbox_message", "processed_event", "alembic_version"} <= tables
    assert len(tables) > 3, f"{service} has no tables of its own"


def test_replicas_migrating_together_all_succeed(postgres_database: Callable[[str], str]) -> None:
    url = postgres_database("mig_race")
    errors: list[Exception] = []

    def run() -> None:
        try:
            migrate(url, Path("services/review/migrations"))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = Database(url)
    assert "review_task" in inspect(db.engine).get_table_names()
    db.close()
