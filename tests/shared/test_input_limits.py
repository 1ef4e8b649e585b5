"""Limits derived from the columns: lengths and integer ranges by column name, NUL and finiteness always."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.input_limits import INT64, ColumnLimits, document_limits, problems
from shared.runtime import create_app
from shared.webhooks.inbound import register_source
from shared.webhooks.signing import sign_headers
from tandem import synthetic
from tandem.services import SERVICES

LIMITS = ColumnLimits(
    lengths={"creator_id": 64, "name": 200}, int_ranges={"followers": (-(2**31), 2**31 - 1)}
)


def _found(doc: Any) -> dict[str, str]:
    return {".".join(map(str, loc)): reason for loc, reason in problems(doc, LIMITS)}


def test_text_longer_than_its_column_or_holding_nul_is_named() -> None:
    found = _found({"creators": [{"creator_id": "c" * 65, "name": "a\x00b", "bio": "x" * 10_000}]})
    assert set(found) == {"creators.0.creator_id", "creators.0.name"}
    assert "64" in found["creators.0.creator_id"] and "NUL" in found["creators.0.name"]


def test_integers_are_bounded_by_their_column_its_min_max_filters_and_int64_elsewhere() -> None:
    found = _found({"followers": 2**31, "min_followers": 2**31, "limit": 2**63, "page": 2**63 - 1})
    assert set(found) == {"followers", "min_followers", "limit"}
    assert str(INT64[1]) in found["limit"]


def test_non_finite_numbers_anywhere_are_named() -> None:
    found = _found({"a": [1.0, float("inf")], "b": {"c": float("nan")}, "d": 1e308})
    assert set(found) == {"a.1", "b.c"}


def test_list_items_take_the_column_of_the_list_name() -> None:
    assert set(_found({"creator_ids": ["ok", "c" * 65]})) == {"creator_ids.1"}


def test_plain_bulk_columns_pass_and_keys_with_nul_are_named() -> None:
    assert (
        _found({"followers": list(range(100_000)), "rate": [0.5] * 100_000, "creator_id": ["a"] * 10}) == {}
    )
    assert set(_found({"audience_age": {"\x00": 0.1}})) == {"audience_age.\x00"}


def test_openapi_documents_the_limits_where_the_schema_is_wider() -> None:
    doc: dict[str, Any] = {
        "components": {"schemas": {"SearchIn": {"properties": {
            "min_followers": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
            "creator_id": {"type": "string", "maxLength": 32},
            "name": {"type": "string"},
        }}}},
        "paths": {"/c/{creator_id}": {"get": {"parameters": [
            {"name": "creator_id", "in": "path", "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
        ]}}},
    }  # fmt: skip
    document_limits(doc, LIMITS)
    props = doc["components"]["schemas"]["SearchIn"]["properties"]
    assert props["min_followers"]["anyOf"][0] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    assert props["creator_id"]["maxLength"] == 32 and props["name"]["maxLength"] == 200
    creator, limit = doc["paths"]["/c/{creator_id}"]["get"]["parameters"]
    assert creator["schema"]["maxLength"] == 64
    assert limit["schema"] == {"type": "integer", "minimum": INT64[0], "maximum": 100}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    clients: dict[str, TestClient] = {}
    for name in ("discovery", "fraud"):
        entry = SERVICES[name]
        settings = entry.settings(data_dir=tmp_path_factory.mktemp(name), kafka_bootstrap="127.0.0.1:1",
                                  consumer_enabled=False, webhooks_enabled=False, log_level="WARNING")  # fmt: skip
        clients[name] = TestClient(create_app(entry.spec, settings)).__enter__()
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


def _parses_of(body: bytes, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every parse of exactly `body` from now on (json, orjson, pydantic's JSON validation), by name."""
    seen: list[str] = []

    def spying(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def parse(data: Any, *args: Any, **kwargs: Any) -> Any:
            seen.extend([name] if data == body else [])
            return real(data, *args, **kwargs)

        return parse

    monkeypatch.setattr(json, "loads", spying("json.loads", json.loads))
    monkeypatch.setattr(orjson, "loads", spying("orjson.loads", orjson.loads))
    validate = BaseModel.model_validate_json.__func__  # type: ignore[attr-defined]

    def validate_json(cls: type[BaseModel], data: Any, *args: Any, **kwargs: Any) -> Any:
        seen.extend(["model_validate_json"] if data == body else [])
        return validate(cls, data, *args, **kwargs)

    monkeypatch.setattr(BaseModel, "model_validate_json", classmethod(validate_json))
    return seen


SIGNED = "signed"  # a partner's webhook: signed with its source's secret
PARSED_ONCE = [
    ("discovery", "/v1/creators/bulk", {"creators": synthetic.generate_world(3, seed=5).payloads()}, {}),
    ("discovery", "/v1/inbound/{source}/creators", {"creators": synthetic.generate_world(2, seed=6).payloads()},
     {SIGNED: "1"}),
    ("fraud", "/v1/fraud/score/columns", {"columns": {"platform": ["instagram"] * 2, "followers": [900, 12_000],
                                                      "following": [300, 80], "engagement_rate": [0.02, 0.05]}}, {}),
    # an Idempotency-Key keeps a single score off the fast lane: the full stack's route parses it
    ("fraud", "/v1/fraud/score", {"creator_id": "c1", "account": {"platform": "instagram", "handle": "c1",
                                  "followers": 5_000, "engagement_rate": 0.03}}, {"Idempotency-Key": "once-1"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("service", "path", "doc", "headers"), PARSED_ONCE, ids=[p for _, p, _, _ in PARSED_ONCE]
)
def test_a_raw_body_route_validates_the_document_the_input_limits_parsed(
    apps: dict[str, TestClient],
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    path: str,
    doc: dict[str, Any],
    headers: dict[str, str],
) -> None:
    client, body = apps[service], orjson.dumps(doc)
    if headers.pop(SIGNED, None):
        edge = client.app.state.runtime.idempotency.db  # type: ignore[attr-defined]
        source, secret = register_source(edge, "demo", "partner")
        path, headers = path.format(source=source), sign_headers([secret], f"once-{source}", body)
    parses = _parses_of(body, monkeypatch)
    r = client.post(path, content=body, headers={"Content-Type": "application/json", **headers})
    assert r.status_code in (200, 202), r.text
    assert len(parses) == 1, parses


def test_a_body_orjson_refuses_is_still_checked_and_parsed_by_the_route(apps: dict[str, TestClient]) -> None:
    """What orjson refuses but Python's json reads: the limits name a 2^100 count, and the route's own
    parse refuses a lone surrogate, as before the body was parsed once."""
    creator = synthetic.generate_world(1, seed=7).payloads()[0]
    creator["accounts"][0]["followers"] = 123_456_789
    plain = orjson.dumps({"creators": [{**creator, "creator_id": "lone"}]})
    for body, named in [(plain.replace(b"123456789", str(2**100).encode()), "accounts.0.followers"),
                        (plain.replace(b'"lone"', b'"lone\\ud800"'), "Invalid JSON")]:  # fmt: skip
        r = apps["discovery"].post(
            "/v1/creators/bulk", content=body, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422, r.text
        assert named in r.text, r.text
