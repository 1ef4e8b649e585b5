"""Access is answered before the body: a caller without a valid key hears 401 and one without the
route's role 403, whatever the body holds (malformed JSON, text no column can hold, a body the route
parses itself); only callers allowed to call a route are told what is wrong with their body."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from services.discovery.app import SPEC
from services.discovery.config import DiscoverySettings
from shared.runtime import create_app
from shared.webhooks import inbound
from shared.webhooks.inbound import register_source
from shared.webhooks.signing import new_secret, sign_headers
from tandem import synthetic

MALFORMED = b'{"creator_ids": ["a", '
NUL_IDS = b'{"creator_ids": ["a\\u0000", "b"]}'
LONG_ID = b'{"creators": [{"creator_id": "' + b"x" * 5000 + b'", "platform": "instagram"}]}'
DEEP = b"[" * 50_000 + b"]" * 50_000
# (route, body): a body-model route (PersonLinkIn, JUDGE: not partners) and the raw-body bulk route
# (INGEST: not reviewers), each with bodies refused at every stage (FastAPI's JSON parse, the input
# limits, the route's own parse).
LINK, BULK = "/v1/people/link", "/v1/creators/bulk"
CASES = [(LINK, MALFORMED), (LINK, NUL_IDS), (LINK, DEEP), (BULK, MALFORMED), (BULK, LONG_ID), (BULK, DEEP)]
REFUSED_ROLE = {LINK: "partner", BULK: "reviewer"}
ALLOWED_ROLE = {LINK: "reviewer", BULK: "strategist"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = DiscoverySettings(data_dir=tmp_path_factory.mktemp("access"), consumer_enabled=False,
                                 webhooks_enabled=False, kafka_bootstrap="127.0.0.1:1", auth_mode="keys",
                                 max_body_bytes=200_000, log_level="WARNING")  # fmt: skip
    with TestClient(create_app(SPEC, settings), raise_server_exceptions=False) as c:
        yield c


def _key(client: TestClient, role: str) -> dict[str, str]:
    keys = client.app.state.runtime.keys  # type: ignore[attr-defined]
    return {"X-API-Key": keys.issue("acme", role, f"access {role}", person=f"{role}@acme")}


def _post(client: TestClient, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    r = client.post(path, content=body, headers={"Content-Type": "application/json", **headers})
    return r.status_code, r.text


@pytest.mark.parametrize(("path", "body"), CASES, ids=lambda v: v if isinstance(v, str) else v[:16].decode())
def test_a_caller_without_a_key_hears_401_whatever_the_body(
    client: TestClient, path: str, body: bytes
) -> None:
    for headers in ({}, {"X-API-Key": "not-a-key"}):
        status, text = _post(client, path, body, headers)
        assert status == 401, text
        assert "creator" not in text and "JSON" not in text


@pytest.mark.parametrize(("path", "body"), CASES, ids=lambda v: v if isinstance(v, str) else v[:16].decode())
def test_a_caller_without_the_role_hears_403_whatever_the_body(
    client: TestClient, path: str, body: bytes
) -> None:
    status, text = _post(client, path, body, _key(client, REFUSED_ROLE[path]))
    assert status == 403 and "may not do this" in text, text


@pytest.mark.parametrize(("path", "body"), CASES, ids=lambda v: v if isinstance(v, str) else v[:16].decode())
def test_an_allowed_caller_still_hears_what_is_wrong_with_the_body(
    client: TestClient, path: str, body: bytes
) -> None:
    status, text = _post(client, path, body, _key(client, ALLOWED_ROLE[path]))
    assert status in (400, 422), text


def test_an_oversized_body_is_refused_on_its_declared_size_before_anything_else(client: TestClient) -> None:
    status, _ = _post(client, BULK, b"[" + b"0," * 150_000 + b"0]", {})
    assert status == 413


def test_a_webhook_without_a_valid_signature_hears_401_whatever_the_body(client: TestClient) -> None:
    edge = client.app.state.runtime.idempotency.db  # type: ignore[attr-defined]
    source, secret = register_source(edge, "acme", "partner")
    for body in (LONG_ID, MALFORMED, DEEP):
        forged = client.post(f"/v1/inbound/{source}/creators", content=body,
                             headers={"Content-Type": "application/json", **sign_headers([new_secret()], "m1", body)})  # fmt: skip
        assert forged.status_code == 401, forged.text
        signed = client.post(f"/v1/inbound/{source}/creators", content=body,
                             headers={"Content-Type": "application/json", **sign_headers([secret], "m2", body)})  # fmt: skip
        assert signed.status_code == 422, signed.text


def test_a_signed_webhook_is_verified_once(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The access check verifies the signature and hands what it verified to the route (one source read
    and one HMAC per delivery, not two); the delivery is still applied."""
    edge = client.app.state.runtime.idempotency.db  # type: ignore[attr-defined]
    source, secret = register_source(edge, "acme", "partner")
    calls: list[str] = []
    real = inbound.verify

    def counted(*args: object, **kwargs: object) -> str:
        calls.append("verify")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(inbound, "verify", counted)
    body = orjson.dumps({"creators": synthetic.generate_world(1, seed=5).payloads()})
    r = client.post(f"/v1/inbound/{source}/creators", content=body,
                    headers={"Content-Type": "application/json", **sign_headers([secret], "once-m1", body)})  # fmt: skip
    assert r.status_code == 202, r.text
    assert r.json()["received"] == 1
    assert calls == ["verify"]
