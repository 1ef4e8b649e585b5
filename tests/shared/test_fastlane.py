"""The fast lane answers the plain success case itself and hands everything else to the full stack."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from pydantic import BaseModel, Field, ValidationError

from shared.db import Database, migrate
from shared.errors import install_error_handlers
from shared.fastlane import ServiceApp
from shared.http import install_common
from shared.identity.keys import KeyStore, Principal
from shared.orgs import current_principal
from shared.runtime import IDENTITY_MIGRATIONS, Runtime
from shared.settings import ServiceSettings

SERVICE = "fastlane-test"
PATH = "/v1/double"
MAX_BODY = 200


class Number(BaseModel):
    value: int = Field(ge=0)


class Lanes:
    """Which lane answered each request."""

    def __init__(self) -> None:
        self.fast: list[str] = []
        self.full: list[int] = []


def _client(tmp_path: Path, mode: str = "open", rate_limit: int = 0) -> tuple[TestClient, Lanes, KeyStore]:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    store = KeyStore(Database(url), cache_ttl_s=0)
    settings = ServiceSettings(service_name=SERVICE, auth_mode=mode, data_dir=tmp_path,
                               max_body_bytes=MAX_BODY, rate_limit_per_minute=rate_limit)  # fmt: skip
    lanes = Lanes()

    def fast(runtime: Runtime, principal: Principal, raw: bytes) -> bytes | None:
        try:
            n = Number.model_validate_json(raw)
        except ValidationError:
            return None
        lanes.fast.append(principal.org_id)
        return orjson.dumps({"doubled": 2 * n.value, "org": principal.org_id})

    app = ServiceApp()
    install_error_handlers(app)

    @app.post(PATH, dependencies=[Depends(current_principal)])
    def double(body: Number, principal: Principal = Depends(current_principal)) -> dict[str, object]:
        lanes.full.append(body.value)
        return {"doubled": 2 * body.value, "org": principal.org_id}

    install_common(app, SERVICE, dict, max_body_bytes=MAX_BODY, rate_limit_per_minute=rate_limit)
    app.add_fast_route(SERVICE, PATH, fast)
    app.state.runtime = Runtime(settings=settings, db=Database(url), outbox=None, keys=store)  # type: ignore[arg-type]
    return TestClient(app), lanes, store


def test_plain_request_is_answered_by_the_fast_lane(tmp_path: Path) -> None:
    client, lanes, _ = _client(tmp_path)
    before = REGISTRY.get_sample_value(
        "tandem_http_requests_total", {"service": SERVICE, "method": "POST", "route": PATH, "status": "200"}
    )
    r = client.post(PATH, json={"value": 21}, headers={"X-Org-Id": "acme", "X-Correlation-ID": "abc-1"})
    assert r.status_code == 200 and r.json() == {"doubled": 42, "org": "acme"}
    assert r.headers["x-correlation-id"] == "abc-1"
    assert lanes.fast == ["acme"] and lanes.full == []
    after = REGISTRY.get_sample_value(
        "tandem_http_requests_total", {"service": SERVICE, "method": "POST", "route": PATH, "status": "200"}
    )
    assert (after or 0) - (before or 0) == 1


def test_fast_lane_answers_carry_the_security_headers(tmp_path: Path) -> None:
    client, lanes, _ = _client(tmp_path)
    r = client.post(PATH, json={"value": 2})
    assert lanes.fast == ["demo"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_a_correlation_id_is_minted_when_none_is_given(tmp_path: Path) -> None:
    client, _, _ = _client(tmp_path)
    r = client.post(PATH, json={"value": 1})
    assert len(r.headers["x-correlation-id"]) == 32


def test_invalid_body_gets_the_full_stacks_422_naming_the_field(tmp_path: Path) -> None:
    client, lanes, _ = _client(tmp_path)
    r = client.post(PATH, json={"value": -1})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["value"]
    assert lanes.fast == [] and lanes.full == []


def test_idempotency_key_takes_the_full_stack(tmp_path: Path) -> None:
    client, lanes, _ = _client(tmp_path)
    r = client.post(PATH, json={"value": 3}, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 200 and r.json()["doubled"] == 6
    assert lanes.fast == [] and lanes.full == [3]


def test_oversize_body_is_refused_with_413(tmp_path: Path) -> None:
    client, lanes, _ = _client(tmp_path)
    r = client.post(PATH, content=b'{"value": 1' + b" " * MAX_BODY + b"}",
                    headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert lanes.fast == [] and lanes.full == []


def test_rate_limited_deployments_take_the_full_stack(tmp_path: Path) -> None:
    client, lanes, _ = _client(tmp_path, rate_limit=600)
    r = client.post(PATH, json={"value": 2})
    assert r.status_code == 200 and r.headers["ratelimit-limit"] == "600"
    assert lanes.full == [2] and lanes.fast == []


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "tdm_nope_nope"}])
def test_keys_mode_without_a_valid_key_is_401(tmp_path: Path, headers: dict[str, str]) -> None:
    client, lanes, _ = _client(tmp_path, mode="keys")
    r = client.post(PATH, json={"value": 2}, headers=headers)
    assert r.status_code == 401
    assert lanes.fast == [] and lanes.full == []


def test_keys_mode_takes_the_org_from_the_key_on_the_fast_lane(tmp_path: Path) -> None:
    client, lanes, store = _client(tmp_path, mode="keys")
    store.ensure_org("acme")
    key = store.issue("acme", "strategist", "test")
    r = client.post(PATH, json={"value": 2}, headers={"X-API-Key": key, "X-Org-Id": "other"})
    assert r.status_code == 200 and r.json()["org"] == "acme"
    assert lanes.fast == ["acme"]


def test_overlong_org_header_gets_the_full_stacks_422(tmp_path: Path) -> None:
    client, lanes, _ = _client(tmp_path)
    r = client.post(PATH, json={"value": 2}, headers={"X-Org-Id": "x" * 65})
    assert r.status_code == 422 and lanes.fast == []


def test_other_methods_and_paths_are_untouched(tmp_path: Path) -> None:
    client, lanes, _ = _client(tmp_path)
    assert client.get(PATH).status_code == 405
    assert client.get("/health/live").status_code == 200
    assert lanes.fast == []
