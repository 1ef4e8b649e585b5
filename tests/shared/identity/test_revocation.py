"""A revoked key ends on its next request, in every process, and gets no idempotent replay; a stored
response never holds the secret it showed once."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import select

from services.review.app import build
from services.review.config import ReviewSettings
from shared.db import Database
from shared.identity.keys import KeyStore
from shared.identity.models import IdempotencyRecord

ENDPOINT = {"url": "https://93.184.216.34/hooks/tandem", "event_types": ["review.decided"]}


def _settings(tmp_path: Path) -> ReviewSettings:
    return ReviewSettings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", consumer_enabled=False,
                          auth_mode="keys", session_secret="s" * 48, secrets_key="k" * 48)  # fmt: skip


def test_a_revoked_key_is_refused_on_the_next_request_and_gets_no_replay(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with TestClient(build(settings)) as c:
        serving = c.app.state.runtime.keys  # type: ignore[attr-defined]
        token = serving.issue("acme", "partner", "crm sync")
        h = {"X-API-Key": token, "Idempotency-Key": "create-1"}
        assert c.post("/v1/webhooks/endpoints", json=ENDPOINT, headers=h).status_code == 201
        assert c.get("/v1/webhooks/endpoints", headers={"X-API-Key": token}).status_code == 200
        # Another process (the CLI, another replica) revokes; this one's key cache is warm.
        KeyStore(Database(settings.effective_auth_database_url)).revoke(token[4:].split(".")[0])
        assert c.get("/v1/webhooks/endpoints", headers={"X-API-Key": token}).status_code == 401
        again = c.post("/v1/webhooks/endpoints", json=ENDPOINT, headers=h)
        assert again.status_code == 401
        assert "idempotent-replayed" not in again.headers


def test_an_idempotent_replay_never_shows_the_secret_and_the_record_never_holds_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with TestClient(build(settings)) as c:
        token = c.app.state.runtime.keys.issue("acme", "partner", "crm sync")  # type: ignore[attr-defined]
        h = {"X-API-Key": token, "Idempotency-Key": "create-2"}
        first = c.post("/v1/webhooks/endpoints", json=ENDPOINT, headers=h)
        secret = first.json()["secret"]
        assert secret.startswith("whsec_")
        replay = c.post("/v1/webhooks/endpoints", json=ENDPOINT, headers=h)
        assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
        assert replay.json()["secret"] is None
        assert replay.json()["endpoint_id"] == first.json()["endpoint_id"]
        assert "secret" in replay.headers["idempotent-redacted"]
        rotated = c.post(f"/v1/webhooks/endpoints/{first.json()['endpoint_id']}/rotate-secret",
                         headers={**h, "Idempotency-Key": "rotate-1"})  # fmt: skip
        assert rotated.json()["secret"].startswith("whsec_")
    with Database(settings.effective_auth_database_url).transaction() as s:
        stored = [r.body for r in s.exec(select(IdempotencyRecord))]
    assert len(stored) == 2
    assert not any(secret.encode() in body or rotated.json()["secret"].encode() in body for body in stored)
