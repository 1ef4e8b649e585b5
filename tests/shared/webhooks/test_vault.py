"""Webhook signing secrets are encrypted at rest; rows written in clear are sealed at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from shared.db import Database, migrate
from shared.runtime import IDENTITY_MIGRATIONS
from shared.webhooks import hub, vault
from shared.webhooks.inbound import register_source, verified
from shared.webhooks.models import WebhookEndpoint
from shared.webhooks.signing import sign_headers


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    vault.configure("a" * 40)
    yield Database(url)
    vault.configure("a" * 40)


def _raw(edge: Database, table: str) -> list[str]:
    with edge.engine.connect() as conn:
        return [str(v) for (v,) in conn.execute(text(f"SELECT secrets FROM {table}"))]


def test_endpoint_and_source_secrets_are_not_stored_in_clear(edge: Database) -> None:
    ep, secret = hub.new_endpoint(edge, "acme", "https://93.184.216.34/h", ["*"])
    rotated = hub.rotate_secret(edge, "acme", ep.endpoint_id, grace=timedelta(hours=1))
    source, inbound_secret = register_source(edge, "acme", "shop")
    stored = _raw(edge, "webhook_endpoint") + _raw(edge, "inbound_source")
    assert all('"sealed"' in row for row in stored)
    for plain in (secret, rotated, inbound_secret, secret.removeprefix("whsec_")):
        assert not any(plain in row for row in stored)
    with edge.transaction() as s:
        row = s.get(WebhookEndpoint, ep.endpoint_id)
        assert row is not None
        assert hub.active_secrets(row, datetime.now(UTC)) == [secret, rotated]
    body = b'{"x": 1}'
    assert verified(edge, source, sign_headers([inbound_secret], "msg-1", body), body)[1] == "msg-1"


def test_rows_written_in_clear_are_sealed_and_still_read(edge: Database) -> None:
    legacy = [{"secret": "whsec_bGVnYWN5LXNlY3JldC1ieXRlcw==", "expires_at": None}]
    with edge.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO webhook_endpoint (endpoint_id, org_id, url, description, event_types, secrets, "
                "enabled, disabled_reason, consecutive_failures, created_at) VALUES ('ep_old', 'acme', "
                "'https://93.184.216.34/h', '', :types, :s, true, '', 0, '2026-01-01 00:00:00')"
            ),
            {"types": orjson.dumps(["*"]).decode(), "s": orjson.dumps(legacy).decode()},
        )
    assert vault.seal_existing(edge) == 1
    assert vault.seal_existing(edge) == 0  # idempotent: every start runs it
    assert (
        "legacy" not in _raw(edge, "webhook_endpoint")[0]
        and "bGVnYWN5" not in _raw(edge, "webhook_endpoint")[0]
    )
    with edge.transaction() as s:
        row = s.get(WebhookEndpoint, "ep_old")
        assert row is not None and row.secrets == legacy


def test_a_rotated_key_still_opens_old_values_and_a_wrong_key_fails_loudly(edge: Database) -> None:
    ep, secret = hub.new_endpoint(edge, "acme", "https://93.184.216.34/h", ["*"])
    vault.configure("b" * 40, previous=["a" * 40])
    with edge.transaction() as s:
        row = s.get(WebhookEndpoint, ep.endpoint_id)
        assert row is not None and row.secrets[0]["secret"] == secret
    vault.configure("c" * 40)
    with pytest.raises(vault.VaultError), edge.transaction() as s:
        s.get(WebhookEndpoint, ep.endpoint_id)
