"""Creator metrics from partners: a signed webhook updates the source's organisation's catalogue, once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from services.discovery.app import SPEC
from services.discovery.config import DiscoverySettings
from shared.runtime import Runtime, create_app
from shared.webhooks.inbound import register_source
from shared.webhooks.signing import new_secret, sign_headers
from tandem import synthetic


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = DiscoverySettings(data_dir=tmp_path, consumer_enabled=False, webhooks_enabled=False,
                                 kafka_bootstrap="127.0.0.1:1")  # fmt: skip
    with TestClient(create_app(SPEC, settings)) as c:
        yield c


def _runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


def test_signed_creator_update_lands_in_the_sources_org_once(client: TestClient) -> None:
    edge = _runtime(client).idempotency.db  # type: ignore[union-attr]
    source, secret = register_source(edge, "globex", "creator data partner")
    body = orjson.dumps({"creators": synthetic.generate_world(5, seed=2).payloads()})
    headers = sign_headers([secret], "msg_c1", body)
    first = client.post(f"/v1/inbound/{source}/creators", content=body, headers=headers)
    assert first.status_code == 202, first.text
    assert first.json()["created"] == 5
    replay = client.post(f"/v1/inbound/{source}/creators", content=body, headers=headers)
    assert replay.json() == {"received": 0, "created": 0, "updated": 0, "unchanged": 0, "older": 0}
    assert client.get("/v1/catalog/stats", headers={"X-Org-Id": "globex"}).json()["creators"] == 5
    assert client.get("/v1/catalog/stats", headers={"X-Org-Id": "demo"}).json()["creators"] == 0


def test_forged_webhook_changes_nothing(client: TestClient) -> None:
    edge = _runtime(client).idempotency.db  # type: ignore[union-attr]
    source, _ = register_source(edge, "globex", "p")
    body = orjson.dumps({"creators": synthetic.generate_world(2, seed=3).payloads()})
    r = client.post(
        f"/v1/inbound/{source}/creators", content=body, headers=sign_headers([new_secret()], "m", body)
    )
    assert r.status_code == 401
    assert client.get("/v1/catalog/stats", headers={"X-Org-Id": "globex"}).json()["creators"] == 0


def test_signed_but_malformed_body_is_422_naming_the_field(client: TestClient) -> None:
    edge = _runtime(client).idempotency.db  # type: ignore[union-attr]
    source, secret = register_source(edge, "globex", "p")
    body = orjson.dumps({"creators": [{"creator_id": "x"}]})
    r = client.post(
        f"/v1/inbound/{source}/creators", content=body, headers=sign_headers([secret], "m2", body)
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"].startswith("creators")


def _deliver(client: TestClient, source: tuple[str, str], webhook_id: str, body: bytes) -> httpx.Response:
    """A partner's signed delivery from `source` (id, secret)."""
    source_id, secret = source
    headers = sign_headers([secret], webhook_id, body)
    return client.post(f"/v1/inbound/{source_id}/creators", content=body, headers=headers)


def test_webhook_refused_with_422_then_retried_corrected_under_the_same_id_is_applied(
    client: TestClient,
) -> None:
    source = register_source(_runtime(client).idempotency.db, "globex", "p")  # type: ignore[union-attr]
    assert (
        _deliver(client, source, "m3", orjson.dumps({"creators": [{"creator_id": "x"}]})).status_code == 422
    )
    corrected = orjson.dumps({"creators": synthetic.generate_world(3, seed=4).payloads()})
    r = _deliver(client, source, "m3", corrected)
    assert r.status_code == 202, r.text
    assert r.json()["created"] == 3


def test_nul_character_or_over_long_webhook_id_is_4xx_naming_the_field(client: TestClient) -> None:
    source = register_source(_runtime(client).idempotency.db, "globex", "p")  # type: ignore[union-attr]
    creators = synthetic.generate_world(1, seed=5).payloads()
    creators[0]["name"] = "Ana\x00Lee"
    r = _deliver(client, source, "m4", orjson.dumps({"creators": creators}))
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "creators.0.name")
    ok = orjson.dumps({"creators": synthetic.generate_world(1, seed=6).payloads()})
    r = _deliver(client, source, "m" * 300, ok)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "webhook-id")
    assert client.get("/v1/catalog/stats", headers={"X-Org-Id": "globex"}).json()["creators"] == 0
