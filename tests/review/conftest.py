"""Fixtures of the review tests: a migrated SQLite database and an outbox to stage events in."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.bus.outbox import Outbox
from shared.db import Database, migrate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test gets a copy (running Alembic per test would cost ~0.4 s each)."""
    path = tmp_path_factory.mktemp("review-template") / "review.db"
    migrate(f"sqlite:///{path}", REPO / "services" / "review" / "migrations")
    return path


@pytest.fixture
def db(tmp_path: Path, migrated_template: Path) -> Iterator[Database]:
    path = tmp_path / "review.db"
    shutil.copy(migrated_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.close()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox("review")
