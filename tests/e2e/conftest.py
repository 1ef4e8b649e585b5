"""The four services as separate processes on the session's broker and fresh PostgreSQL databases, one
suite per test module (each module's flow starts from empty databases)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from shared.broker import Broker
from tandem.services import SERVICES
from tandem.supervisor import Suite


@pytest.fixture(scope="module")
def suite(
    broker: Broker, postgres_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Suite]:
    urls = {name: postgres_database(name) for name in SERVICES}
    s = Suite(bootstrap=broker.bootstrap, workdir=tmp_path_factory.mktemp("suite"), database_urls=urls)
    s.start()
    yield s
    s.stop()
