"""Fixtures for the real parts: Apache Kafka started once per session (tansu for the compatibility
subset, or for everything with TANDEM_TEST_BROKER=tansu) and fresh PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from shared.broker import Broker
from tests.busutil import chosen_broker_kind, started_broker

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# Services in keys mode refuse to start without production-grade secrets (shared.security); the test
# run has its own, inherited by the service processes the e2e tests start. tests/review/test_signin.py
# shows the refusal with these unset.
TEST_SECRETS = {
    "TANDEM_SECRETS_KEY": "test-only-secrets-key-" + "0" * 24,
    "TANDEM_REVIEW_SESSION_SECRET": "test-only-session-secret-" + "0" * 24,
}


@pytest.fixture(scope="session", autouse=True)
def production_secrets() -> Iterator[None]:
    mp = pytest.MonkeyPatch()
    for name, value in TEST_SECRETS.items():
        mp.setenv(name, os.environ.get(name) or value)
    yield
    mp.undo()


COUNTS: list[str] = []


@pytest.fixture
def report_counts() -> Callable[[str], None]:
    """Counts a test wants people to see (fault tests): printed, and repeated at the end of the run."""

    def report(line: str) -> None:
        print(line)
        COUNTS.append(line)

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COUNTS:
        terminalreporter.section("counted by the fault and lag tests")
        for line in COUNTS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """The session's broker: Apache Kafka (KRaft, one node), every topic created."""
    b = started_broker(chosen_broker_kind(), tmp_path_factory, "broker")
    yield b
    b.close()


@pytest.fixture(scope="session")
def tansu_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """tansu, for the tests that keep the zero-setup broker of `make run` compatible."""
    b = started_broker("tansu", tmp_path_factory, "tansu")
    yield b
    b.close()


def _admin_url() -> str:
    url = os.environ.get("TANDEM_TEST_DATABASE_URL", DEFAULT_ADMIN_URL)
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[Callable[[str], str]]:
    """Factory of fresh databases on the test PostgreSQL server; all are dropped at the end of the run."""
    admin = _admin_url()
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is needed at {admin} (set TANDEM_TEST_DATABASE_URL): {exc}")
    created: list[str] = []
    run = uuid.uuid4().hex[:8]

    def make(label: str) -> str:
        name = f"tandem_test_{run}_{label}_{len(created)}"
        conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        return f"{base}/{name}"

    yield make
    for name in created:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a clear skip on a fresh clone that does not have it."""
    if not SHARED_DATA.exists():
        pytest.skip(f"needs the team's data sets at {SHARED_DATA} (absent in a fresh clone)")
    return SHARED_DATA
