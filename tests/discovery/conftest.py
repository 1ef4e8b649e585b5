"""Fixtures the discovery tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.runtime import Runtime
from tests.discovery.apputil import discovery_runtime


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A discovery runtime on a migrated SQLite file (a module's own `runtime` fixture overrides it)."""
    rt = discovery_runtime(f"sqlite:///{tmp_path / 'discovery.db'}")
    yield rt
    rt.db.close()
