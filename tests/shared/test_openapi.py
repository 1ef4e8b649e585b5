"""Every service's OpenAPI document is one a partner can build against: every operation, parameter and
field described, and every error the shared edge can answer documented as problem details."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from shared.openapi import error_statuses
from shared.runtime import create_app
from tandem.services import SERVICES

MODES = ["open", "keys"]


@functools.cache  # one app per service and mode: building it is most of this file's time
def _document(name: str, mode: str) -> dict[str, Any]:
    entry = SERVICES[name]
    # The document needs no lifespan; keys mode refuses weak secrets only when the runtime starts.
    doc: dict[str, Any] = create_app(entry.spec, entry.settings(auth_mode=mode)).openapi()
    return doc


@pytest.fixture(params=[(n, m) for n in sorted(SERVICES) for m in MODES], ids="-".join)
def doc(request: pytest.FixtureRequest) -> dict[str, Any]:
    name, mode = request.param
    return _document(name, mode)


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]


def test_every_operation_has_a_summary_and_a_description(doc: dict[str, Any]) -> None:
    missing = [
        f"{m.upper()} {p}"
        for p, m, op in _operations(doc)
        if not op.get("summary") or not op.get("description")
    ]
    assert missing == []


def test_every_section_says_what_it_is_for(doc: dict[str, Any]) -> None:
    used = {tag for _, _, op in _operations(doc) for tag in op.get("tags", [])}
    described = {t["name"] for t in doc.get("tags", []) if t.get("description")}
    assert used <= described


def test_every_parameter_is_described(doc: dict[str, Any]) -> None:
    missing = [f"{m.upper()} {p} {param['name']}" for p, m, op in _operations(doc)
               for param in op.get("parameters", []) if not param.get("description")]  # fmt: skip
    assert missing == []


def _properties(name: str, schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every property of a schema, nested ones (inline objects) named by their path."""
    found = []
    for key, prop in schema.get("properties", {}).items():
        found.append((f"{name}.{key}", prop))
        found += _properties(f"{name}.{key}", prop)
    for part in ("items", "additionalProperties"):
        if isinstance(schema.get(part), dict):
            found += _properties(name, schema[part])
    for part in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(part, [])):
            found += _properties(f"{name}[{i}]", sub)
    return found


def _inline_schemas(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Schemas written into operations rather than components (request bodies given as raw JSON schema)."""
    found = []
    for path, method, op in _operations(doc):
        for media in op.get("requestBody", {}).get("content", {}).values():
            found.append((f"{method.upper()} {path} body", media.get("schema", {})))
    return found


def test_every_schema_and_field_is_described(doc: dict[str, Any]) -> None:
    schemas = [*doc["components"]["schemas"].items(), *_inline_schemas(doc)]
    undescribed = [
        name for name, schema in doc["components"]["schemas"].items() if not schema.get("description")
    ]
    fields = [path for name, schema in schemas for path, prop in _properties(name, schema)
              if not prop.get("description")]  # fmt: skip
    assert undescribed == [] and fields == []


def _untyped(schema: dict[str, Any]) -> bool:
    """An answer a partner cannot build against: an object (or Any) with no named fields and no $ref, seen
    through lists and nullable unions."""
    if "$ref" in schema or "properties" in schema:
        return False
    if schema.get("type") == "array":
        return _untyped(schema.get("items", {}))
    if "anyOf" in schema:
        return any(_untyped(s) for s in schema["anyOf"] if s.get("type") != "null")
    return schema.get("type", "object") == "object"


def test_every_success_answer_has_described_fields(doc: dict[str, Any]) -> None:
    untyped = [
        f"{m.upper()} {p} {status}"
        for p, m, op in _operations(doc)
        for status, response in op["responses"].items()
        if status.startswith("2") and _untyped(response.get("content", {}).get("application/json", {}).get("schema", {"type": "string"}))
    ]  # fmt: skip
    assert untyped == []


def test_an_untyped_answer_is_caught() -> None:
    assert _untyped({}) and _untyped({"type": "object", "additionalProperties": True})
    assert _untyped({"type": "object", "additionalProperties": {"type": "integer"}})
    assert _untyped({"type": "array", "items": {"type": "object"}})
    assert _untyped({"anyOf": [{"type": "object"}, {"type": "null"}]})
    assert not _untyped({"$ref": "#/components/schemas/ScoreOut"})
    assert not _untyped({"type": "array", "items": {"$ref": "#/components/schemas/ScoreOut"}})
    assert not _untyped({"type": "object", "properties": {"status": {"type": "string"}}})


def test_every_operation_documents_its_errors_as_problem_details(doc: dict[str, Any]) -> None:
    keys = "securitySchemes" in doc["components"]
    wrong = []
    for path, method, op in _operations(doc):
        for status in error_statuses(path, method, op, keys):
            if (path, status) == ("/health/ready", 503):  # its checks, not a problem (shared/http.py)
                assert (
                    "checks" in op["responses"]["503"]["content"]["application/json"]["schema"]["properties"]
                )
                continue
            content = op["responses"].get(str(status), {}).get("content", {})
            if content.get("application/problem+json", {}).get("schema") != {
                "$ref": "#/components/schemas/ProblemDetails"
            }:
                wrong.append(f"{method.upper()} {path} {status}")
    assert wrong == []


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_the_error_set_follows_the_edge(name: str) -> None:
    """The documented errors are the ones the shared edge really answers in each mode."""
    open_doc, keys_doc = _document(name, "open"), _document(name, "keys")
    for path, method, op in _operations(keys_doc):
        codes = set(op["responses"])
        assert {"500", "503"} <= codes
        if op.get("parameters") or "requestBody" in op:
            assert "422" in codes
        if path.startswith("/v1/") and "/inbound/" not in path:
            assert {"401", "403", "429"} <= codes and op["security"] == [{"ApiKey": []}, {"Bearer": []}]
            assert "401" not in open_doc["paths"][path][method]["responses"]
        if "{" in path:
            assert "404" in codes
        if "requestBody" in op:
            assert "413" in codes
        if method == "post":
            assert {"400", "409"} <= codes
            assert any(p["name"] == "Idempotency-Key" for p in op["parameters"])
    assert set(keys_doc["components"]["securitySchemes"]) == {"ApiKey", "Bearer"}
    assert "securitySchemes" not in open_doc["components"]
    assert "HTTPValidationError" not in keys_doc["components"]["schemas"]


def test_routes_document_the_errors_their_own_logic_answers() -> None:
    """problems() on a route adds its reasons: kept in open mode, after the edge's in keys mode."""
    discovery = _document("discovery", "open")["paths"]["/v1/lookalikes"]["post"]["responses"]
    assert "winners_of" in discovery["404"]["description"]
    for mode in MODES:
        decision = _document("review", mode)["paths"]["/v1/tasks/{task_id}/decision"]["post"]["responses"]
        assert "escalated to a manager" in decision["403"]["description"]
        assert decision["403"]["content"]["application/problem+json"]
        assert list(decision) == sorted(decision)
