"""API keys: stored hashed, verified to their organisation and role, rotated with grace, revoked."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from shared.db import Database, migrate
from shared.identity.keys import KeyStore
from shared.identity.models import ApiKey
from shared.identity.revocation import RevocationVersion
from shared.runtime import IDENTITY_MIGRATIONS


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    return KeyStore(Database(url), cache_ttl_s=0)


def test_issued_key_verifies_to_its_org_and_role(store: KeyStore) -> None:
    token = store.issue("acme", "strategist", "planning tool")
    principal = store.verify(token)
    assert principal is not None
    assert (principal.org_id, principal.role) == ("acme", "strategist")


def test_only_a_hash_of_the_secret_is_stored(store: KeyStore) -> None:
    token = store.issue("acme", "partner", "p")
    secret = token.split(".", 1)[1]
    with store.db.transaction() as s:
        row = s.exec(select(ApiKey)).one()
    assert secret not in row.secret_sha256 and len(row.secret_sha256) == 64


def test_wrong_secret_and_garbage_are_refused(store: KeyStore) -> None:
    token = store.issue("acme", "reviewer", "r")
    assert store.verify(token[:-2] + "xx") is None
    assert store.verify("not-a-key") is None
    assert store.verify("tdm_.") is None


def test_revoked_key_is_refused(store: KeyStore) -> None:
    token = store.issue("acme", "reviewer", "r")
    key_id = token[4:].split(".")[0]
    store.revoke(key_id)
    assert store.verify(token) is None


def test_rotation_keeps_the_old_key_during_grace_only(store: KeyStore) -> None:
    old = store.issue("acme", "partner", "p")
    old_id = old[4:].split(".")[0]
    new = store.rotate(old_id, grace=timedelta(seconds=1))
    assert store.verify(new) is not None
    assert store.verify(old) is not None
    time.sleep(1.2)
    assert store.verify(old) is None
    assert store.verify(new) is not None


def test_unknown_role_is_refused(store: KeyStore) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        store.issue("acme", "superuser", "x")


def test_a_key_revoked_by_another_process_is_refused_on_the_next_verify(tmp_path: Path) -> None:
    """Two replicas (or a replica and the CLI) with long caches: a revocation by one ends the key in
    the other at once, through the cluster-wide revocation version."""
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    replica, cli = KeyStore(Database(url), cache_ttl_s=3600), KeyStore(Database(url), cache_ttl_s=0)
    token, other = cli.issue("acme", "partner", "p"), cli.issue("acme", "partner", "q")
    assert replica.verify(token) is not None and replica.verify(other) is not None
    cli.revoke(token[4:].split(".")[0])
    assert replica.verify(token) is None
    assert replica.verify(other) is not None


def test_a_rotation_elsewhere_also_refreshes_the_cache(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    replica, cli = KeyStore(Database(url), cache_ttl_s=3600), KeyStore(Database(url), cache_ttl_s=0)
    token = cli.issue("acme", "partner", "p")
    assert replica.verify(token) is not None
    cli.rotate(token[4:].split(".")[0], grace=timedelta(0))
    assert replica.verify(token) is None


def test_on_postgresql_a_revocation_reaches_another_process_by_notification(
    postgres_database: Callable[[str], str],
) -> None:
    """The replica reads no database per request (the version comes by LISTEN/NOTIFY), yet refuses a
    key revoked elsewhere within milliseconds."""
    url = postgres_database("revocation")
    migrate(url, IDENTITY_MIGRATIONS)
    replica_db = Database(url)
    # A safety-net poll far longer than the test: only the notification can make it in time.
    replica = KeyStore(replica_db, cache_ttl_s=3600, revocations=RevocationVersion(replica_db, poll_s=60))
    cli = KeyStore(Database(url), cache_ttl_s=0)
    token = cli.issue("acme", "partner", "p")
    assert replica.verify(token) is not None
    deadline = time.monotonic() + 5
    while not replica.revocations._live and time.monotonic() < deadline:  # the listener has subscribed
        time.sleep(0.01)
    started = time.perf_counter()
    for _ in range(1000):
        assert replica.verify(token) is not None
    per_verify_us = (time.perf_counter() - started) * 1000
    cli.revoke(token[4:].split(".")[0])
    revoked_at = time.perf_counter()
    while replica.verify(token) is not None and time.perf_counter() - revoked_at < 2:
        time.sleep(0.0005)
    latency_ms = (time.perf_counter() - revoked_at) * 1000
    print(
        f"cached verify {per_verify_us:.1f} us; revocation seen by the other process after {latency_ms:.1f} ms"
    )
    assert replica.verify(token) is None
    assert latency_ms < 500
    assert per_verify_us < 50  # no database round trip per request
    replica.revocations.close()
