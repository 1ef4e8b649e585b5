"""Idempotency-Key: a retried POST creates once and gets the first answer back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from shared.broker import free_port
from shared.db import Database, migrate
from shared.idempotency import IdempotencyStore, caller_hash, request_fingerprint
from shared.runtime import IDENTITY_MIGRATIONS
from tests.shared.idempotency_app import SLOW, build

LEASE = timedelta(seconds=1)  # short, so a killed request's key is taken over within the test


@pytest.fixture
def identity_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    return url


@pytest.fixture
def client(identity_url: str) -> TestClient:
    return TestClient(build(identity_url, LEASE), raise_server_exceptions=False)


def test_retry_with_the_same_key_creates_once_and_replays(client: TestClient) -> None:
    h = {"Idempotency-Key": "k-1", "X-Org-Id": "acme"}
    first = client.post("/things", json={"name": "a"}, headers=h)
    again = client.post("/things", json={"name": "a"}, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"id": 1, "name": "a"}
    assert again.headers["idempotent-replayed"] == "true"
    assert client.app.state.created == [1]  # type: ignore[attr-defined]


def test_same_key_with_another_body_is_refused(client: TestClient) -> None:
    h = {"Idempotency-Key": "k-2"}
    client.post("/things", json={"name": "a"}, headers=h)
    r = client.post("/things", json={"name": "b"}, headers=h)
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency_key_reused"


def test_keys_are_per_caller(client: TestClient) -> None:
    client.post("/things", json={"name": "a"}, headers={"Idempotency-Key": "k-3", "X-Org-Id": "acme"})
    r = client.post("/things", json={"name": "a"}, headers={"Idempotency-Key": "k-3", "X-Org-Id": "other"})
    assert r.json()["id"] == 2


def test_without_a_key_every_post_creates(client: TestClient) -> None:
    client.post("/things", json={"name": "a"})
    client.post("/things", json={"name": "a"})
    assert client.app.state.created == [1, 2]  # type: ignore[attr-defined]


def test_server_errors_are_not_stored_so_a_retry_runs_again(client: TestClient) -> None:
    h = {"Idempotency-Key": "k-4"}
    assert client.post("/boom", headers=h).status_code == 500
    r = client.post("/boom", headers=h)
    assert r.status_code == 500
    assert "idempotent-replayed" not in r.headers


def _store(client: TestClient) -> IdempotencyStore:
    store: IdempotencyStore = client.app.state.runtime.idempotency  # type: ignore[attr-defined]
    return store


def test_key_of_a_killed_request_is_taken_over_after_its_lease(client: TestClient) -> None:
    body = b'{"name":"a"}'
    # The request began (the key is claimed) and its process was killed: nothing completes the record.
    claim = (
        caller_hash(b"acme"),
        "k-killed",
        "POST",
        "/things",
        request_fingerprint("POST", "/things", body),
    )
    assert _store(client).begin(*claim, owner="killed-process") is None
    h = {"Idempotency-Key": "k-killed", "X-Org-Id": "acme", "content-type": "application/json"}
    early = client.post("/things", content=body, headers=h)
    assert early.status_code == 409
    assert early.headers["retry-after"] == "1"
    time.sleep(LEASE.total_seconds() + 0.1)
    retry = client.post("/things", content=body, headers=h)
    assert retry.status_code == 201, retry.text
    assert client.post("/things", content=body, headers=h).headers["idempotent-replayed"] == "true"
    assert client.app.state.created == [1]  # type: ignore[attr-defined]


def test_a_renewed_lease_is_kept_and_a_taken_over_owner_records_nothing(client: TestClient) -> None:
    store = _store(client)
    claim = ("caller", "k-lease", "POST", "/things", "fp")
    assert store.begin(*claim, owner="first") is None
    time.sleep(0.7)
    assert store.renew("caller", "k-lease", "first")
    time.sleep(0.7)  # 1.4 s since the claim, 0.7 s since the renewal: still held
    assert store.begin(*claim, owner="second") is not None
    time.sleep(0.4)
    assert store.begin(*claim, owner="second") is None  # lapsed: taken over
    assert not store.renew("caller", "k-lease", "first")
    store.complete("caller", "k-lease", "first", 201, [], b"late")
    store.complete("caller", "k-lease", "second", 201, [], b"mine")
    stored = store.begin(*claim, owner="third")
    assert stored is not None and stored.body == b"mine"


def test_another_body_under_a_lapsed_key_is_still_refused(client: TestClient) -> None:
    claim = (
        caller_hash(b"acme"),
        "k-other",
        "POST",
        "/things",
        request_fingerprint("POST", "/things", b"{}"),
    )
    _store(client).begin(*claim, owner="killed-process")
    time.sleep(LEASE.total_seconds() + 0.1)
    r = client.post("/things", json={"name": "b"}, headers={"Idempotency-Key": "k-other", "X-Org-Id": "acme"})
    assert r.status_code == 422


def test_retries_racing_for_a_lapsed_key_on_postgresql_take_it_over_once(
    postgres_database: Callable[[str], str],
) -> None:
    url = postgres_database("idem_lease")
    migrate(url, IDENTITY_MIGRATIONS)
    store = IdempotencyStore(Database(url), lease=timedelta(milliseconds=200))
    claim = ("caller", "k-race", "POST", "/things", "fp")
    assert store.begin(*claim, owner="killed") is None
    time.sleep(0.3)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: store.begin(*claim, owner=f"retry-{n}"), range(8)))
    assert sum(a is None for a in answers) == 1
    assert all(a.status_code is None for a in answers if a is not None)


def test_key_of_a_request_whose_server_process_was_killed_is_usable_after_the_lease(
    identity_url: str, client: TestClient
) -> None:
    """A real server process, killed (SIGKILL) while the first request runs: while it lived, its renewed
    lease kept retries out; once it is dead, a retry elsewhere takes the key over after the lease."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tests.shared.idempotency_app", identity_url, str(port),
                               str(LEASE.total_seconds())], cwd=Path(__file__).parents[2])  # fmt: skip
    base, h = f"http://127.0.0.1:{port}", {"Idempotency-Key": "k-server", "X-Org-Id": "acme"}
    try:
        _wait_listening(base)
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(httpx.post, f"{base}/things", json={"name": SLOW}, headers=h, timeout=30)
            time.sleep(3 * LEASE.total_seconds())  # three leases: only renewals keep the key
            assert httpx.post(f"{base}/things", json={"name": SLOW}, headers=h).status_code == 409
            os.kill(server.pid, signal.SIGKILL)
            with pytest.raises(httpx.HTTPError):
                first.result()
    finally:
        server.kill()
        server.wait(10)
    early = client.post("/things", json={"name": SLOW}, headers=h)  # another replica, at once
    if early.status_code == 409:  # (unless the machine was so slow that the lease has lapsed already)
        assert int(early.headers["retry-after"]) <= LEASE.total_seconds()
        time.sleep(LEASE.total_seconds() + 0.2)
    retry = early if early.status_code == 201 else client.post("/things", json={"name": SLOW}, headers=h)
    assert retry.status_code == 201, retry.text
    assert client.app.state.created == [1]  # type: ignore[attr-defined]


def _wait_listening(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/docs", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"the app did not start at {base}")
