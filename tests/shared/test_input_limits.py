"""Limits derived from the columns: lengths and integer ranges by column name, NUL and finiteness always."""

from __future__ import annotations

from typing import Any

from shared.input_limits import INT64, ColumnLimits, problems

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
