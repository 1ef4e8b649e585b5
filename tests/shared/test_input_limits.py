"""Limits derived from the columns: lengths and integer ranges by column name, NUL and finiteness always."""

from __future__ import annotations

from typing import Any

from shared.input_limits import INT64, ColumnLimits, document_limits, problems

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
