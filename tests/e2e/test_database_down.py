"""A database outage is a 503 problem with Retry-After and the correlation id, never a plain-text 500, on
PostgreSQL (the server goes away under a running service, then comes back) and on SQLite (the file can't
be opened)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from shared.db import migrate
from shared.errors import PROBLEM_JSON
from shared.runtime import IDENTITY_MIGRATIONS, create_app
from tandem.services import SERVICES

ORG = {"X-Org-Id": "outage"}


class Outage:
    """A TCP relay in front of PostgreSQL that can be cut (every connection dropped, new ones refused)
    and restored on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            server = socket.create_connection(self.target)
            self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                s.close()

    def cut(self) -> None:
        self.up.clear()
        for s in self.open:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.open.clear()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def _assert_outage_problem(client: TestClient) -> None:
    r = client.get("/v1/creators/cr-1", headers=ORG)
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(r.headers["retry-after"]) > 0
    body = r.json()
    assert body["code"] == "database_unavailable" and body["correlation_id"] == r.headers["x-correlation-id"]
    assert "Traceback" not in r.text


def _client(tmp_path: Path, database_url: str, run_migrations: bool = True) -> TestClient:
    identity = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(identity, IDENTITY_MIGRATIONS)
    entry = SERVICES["discovery"]
    settings = entry.settings(data_dir=tmp_path, database_url=database_url, auth_database_url=identity,
                              run_migrations=run_migrations, kafka_bootstrap="127.0.0.1:9", consumer_enabled=False,
                              webhooks_enabled=False, log_level="WARNING")  # fmt: skip
    return TestClient(create_app(entry.spec, settings), raise_server_exceptions=False)


@pytest.fixture
def outage(postgres_database: Callable[[str], str]) -> Iterator[tuple[Outage, str]]:
    url = urlsplit(postgres_database("outage"))
    relay = Outage((url.hostname or "127.0.0.1", url.port or 5432))
    credentials = url.netloc.rsplit("@", 1)[0]
    yield relay, url._replace(netloc=f"{credentials}@127.0.0.1:{relay.port}").geturl()
    relay.close()


@pytest.mark.integration
def test_postgresql_going_away_is_503_with_retry_after_then_recovers(
    outage: tuple[Outage, str], tmp_path: Path
) -> None:
    relay, url = outage
    with _client(tmp_path, url) as client:
        assert client.get("/v1/creators/cr-1", headers=ORG).status_code == 404  # up: an honest not-found
        relay.cut()
        _assert_outage_problem(client)
        relay.restore()
        assert client.get("/v1/creators/cr-1", headers=ORG).status_code == 404  # the pool reconnects


def test_sqlite_file_that_cannot_be_opened_is_503_with_retry_after(tmp_path: Path) -> None:
    with _client(
        tmp_path, f"sqlite:///{tmp_path / 'unmounted' / 'discovery.db'}", run_migrations=False
    ) as client:
        _assert_outage_problem(client)
