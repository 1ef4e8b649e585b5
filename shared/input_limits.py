"""Input limits derived from the columns, checked once per request for every route, the same on SQLite and
PostgreSQL: text that fits its column and holds no NUL, integers within their column's range, finite
numbers. Without them PostgreSQL answered 500 where SQLite silently stored what PostgreSQL can't.

The limits come from the service's own tables by column name (a body's `creator_id` is bounded by the
`creator_id` columns); a value whose name matches no column still gets the NUL, int64 and finiteness
checks. Text whose name several tables share takes the widest column, so no valid text is refused (text
still too long for a narrower one is the database's DataError, a 422 without the field: shared.errors);
integers take the narrowest range, as no real count or version comes near 2^31.
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import BigInteger, Integer, SmallInteger
from sqlmodel import SQLModel

INT64 = (-(2**63), 2**63 - 1)
# Narrowest first: BigInteger and SmallInteger are subclasses of Integer.
_INT_RANGES = ((BigInteger, INT64), (SmallInteger, (-(2**15), 2**15 - 1)), (Integer, (-(2**31), 2**31 - 1)))
NUL = "\x00"
Problem = tuple[tuple[str | int, ...], str]  # (location, reason)
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class ColumnLimits:
    """Longest text and integer range per column name."""

    lengths: dict[str, int] = field(default_factory=dict)
    int_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    _bounds: dict[str | int, tuple[int | None, tuple[int, int]]] = field(default_factory=dict, repr=False)

    @classmethod
    def of_modules(cls, *prefixes: str) -> ColumnLimits:
        """The limits of every table declared in modules under `prefixes` (a service's and shared's)."""
        lengths: dict[str, int] = {}
        ranges: dict[str, tuple[int, int]] = {}
        for mapper in SQLModel._sa_registry.mappers:
            if not mapper.class_.__module__.startswith(prefixes):
                continue
            for column in mapper.local_table.columns:
                if length := getattr(column.type, "length", None):
                    lengths[column.name] = max(length, lengths.get(column.name, 0))
                if bounds := _int_range(column.type):
                    low, high = ranges.get(column.name, bounds)
                    ranges[column.name] = (max(low, bounds[0]), min(high, bounds[1]))
        return cls(lengths, ranges)

    def bounds(self, name: str | int) -> tuple[int | None, tuple[int, int]]:
        """(longest text, integer range) for a name, remembered: the body walk asks for every value."""
        known = self._bounds.get(name)
        if known is None:
            known = self._bounds[name] = (self.length(name), self.int_range(name))
        return known

    def length(self, name: str | int) -> int | None:
        column = self._column(name, self.lengths)
        return self.lengths[column] if column else None

    def int_range(self, name: str | int) -> tuple[int, int]:
        column = self._column(name, self.int_ranges)
        return self.int_ranges[column] if column else INT64

    @staticmethod
    def _column(name: str | int, known: dict[str, Any]) -> str | None:
        """The column a name refers to: itself, a bound on it (`min_followers`), or for a list's items
        its singular (`creator_ids`)."""
        if not isinstance(name, str):
            return None
        for candidate in (name, name.removeprefix("min_").removeprefix("max_"), name.removesuffix("s")):
            if candidate in known:
                return candidate
        return None


def _int_range(column_type: Any) -> tuple[int, int] | None:
    return next((r for t, r in _INT_RANGES if isinstance(column_type, t)), None)


def scalar_problem(value: Any, name: str | int, limits: ColumnLimits) -> str | None:
    """Why one value can't be stored under `name`, or None."""
    return value_problem(value, limits.length(name), limits.int_range(name))


def column_problem(value: Any, column: Any) -> str | None:
    """Why a value can't be compared with or stored in this column (e.g. a decoded cursor), or None."""
    return value_problem(value, getattr(column.type, "length", None), _int_range(column.type) or INT64)


def value_problem(value: Any, longest: int | None, int_range: tuple[int, int]) -> str | None:
    """Why one value can't be stored in text of at most `longest` or an integer in `int_range`, or None."""
    if isinstance(value, str):
        if NUL in value:
            return "text cannot contain NUL characters (\\u0000)"
        if longest is not None and len(value) > longest:
            return f"at most {longest} characters (got {len(value)})"
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int):
        low, high = int_range
        if not low <= value <= high:
            return f"must be between {low} and {high}"
    elif isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number (not NaN or infinity, nor beyond about 1.8e308)"
    return None


def problems(
    value: Any, limits: ColumnLimits, loc: tuple[str | int, ...] = (), name: str | int | None = None
) -> list[Problem]:
    """Every value in a parsed JSON document that no column could hold, with its location. A value is
    bounded by the column of its key; a list's items by the list's key (`creator_ids` -> `creator_id`).
    A loop, not recursion, and paths spelled out only for problems: it runs on every request body."""
    found: list[Problem] = []
    stack: list[tuple[Any, Any, str | int]] = [
        (value, None, name if name is not None else (loc[-1] if loc else ""))
    ]
    while stack:
        item, path, column = stack.pop()  # path: a linked (parent, key) pair
        kind = type(item)
        if kind is dict:
            for key, child in item.items():
                if NUL in key:
                    found.append(
                        (_spelled(loc, (path, key)), "names cannot contain NUL characters (\\u0000)")
                    )
                stack.append((child, (path, key), key))
        elif kind is list:
            if not _plainly_fine(item, limits, column):
                stack.extend((child, (path, index), column) for index, child in enumerate(item))
        elif kind is str or kind is int or kind is float:
            longest, int_range = limits.bounds(column)
            if (kind is float and not math.isfinite(item)) or (kind is str and (NUL in item or (
                    longest is not None and len(item) > longest))) or (kind is int and not (
                    int_range[0] <= item <= int_range[1])):  # fmt: skip
                found.append((_spelled(loc, path), value_problem(item, longest, int_range) or "invalid"))
    return found


def _spelled(loc: tuple[str | int, ...], path: Any) -> tuple[str | int, ...]:
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    return (*loc, *reversed(keys))


def _plainly_fine(items: list[Any], limits: ColumnLimits, name: str | int) -> bool:
    """Long lists of plain numbers or strings (the bulk columns) are cleared at C speed."""
    kinds = set(map(type, items))
    if kinds == {float}:
        return all(map(math.isfinite, items))
    if kinds == {int}:
        low, high = limits.int_range(name)
        return low <= min(items) and max(items) <= high
    if kinds == {str}:
        longest = limits.length(name)
        return NUL not in "".join(items) and (longest is None or max(map(len, items)) <= longest)
    return False


def _annotated_types(annotation: Any) -> set[type]:
    """`int | None`, `Optional[float]`, `list[int]` ... -> the scalar types a parameter takes."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset, typing.Annotated):
        return set().union(*(_annotated_types(a) for a in typing.get_args(annotation)))
    return {annotation} if isinstance(annotation, type) else set()


def _parameter_problems(request: Request, limits: ColumnLimits) -> Iterator[Problem]:
    """Query and path parameters, checked as the type their route declares (a `limit=1e400` is a float)."""
    route = request.scope.get("route")
    declared: dict[str, set[type]] = {}
    if isinstance(route, APIRoute):
        for param in (*route.dependant.query_params, *route.dependant.path_params):
            declared[param.alias] = _annotated_types(param.field_info.annotation)
    sources = (("query", request.query_params.multi_items()), ("path", list(request.path_params.items())))
    for where, pairs in sources:
        for name, raw in pairs:
            if name not in declared:
                # Not a parameter of the route (a page's flash message, a tracking tag): its name says
                # nothing about a column, but NUL is never wanted anywhere.
                if reason := value_problem(raw, None, INT64):
                    yield (where, name), reason
                continue
            value: Any = raw
            kinds = declared[name]
            try:
                if int in kinds and bool not in kinds:
                    value = int(raw)
                elif float in kinds:
                    value = float(raw)
            except (TypeError, ValueError):
                value = raw  # not a number at all: the route's own validation says so
            if reason := scalar_problem(value, name, limits) or scalar_problem(str(raw), name, limits):
                yield (where, name), reason


async def check_input(request: Request) -> None:
    """A router dependency: 422 naming every field whose value no column could hold, before the route
    runs (the body parsed once for the check and the route: `_document`)."""
    limits: ColumnLimits = request.app.state.input_limits
    found = list(_parameter_problems(request, limits))
    if "json" in request.headers.get("content-type", "") and (raw := await request.body()):
        try:
            body = await _document(request, raw)
        except ValueError:
            body = None  # malformed JSON: the route's own parsing answers with its 422
        except RecursionError:  # nested deeper than the parser goes: no column holds such a document
            found.append((("body",), "nested too deeply"))
            body = None
        found.extend((("body", *loc), reason) for loc, reason in problems(body, limits))
    if found:
        raise RequestValidationError(
            [{"type": "value_error", "loc": loc, "msg": reason, "input": None} for loc, reason in found[:50]]
        )


async def _document(request: Request, raw: bytes) -> Any:
    """The parsed body. On a route with a body model, FastAPI's own parse (`request.json()` returns it).
    On a raw-body route (a bulk route that parses its body itself), orjson's, handed on to the route as
    `request.state.json_body` (see `json_body`) so the body is parsed once. What orjson refuses but
    Python's json reads (NaN, integers past 64 bits, lone surrogates) is read here to name the field and
    handed on as nothing: the route's own parse of the bytes then answers as it always did."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.dependant.body_params:
        return await request.json()
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
    request.state.json_body = document
    return document


async def json_body(request: Request) -> Any:
    """A raw-body route's body: the document `check_input` parsed, or the bytes where it parsed none
    (a body not labelled JSON, or one orjson refuses). `validated` takes either."""
    return getattr(request.state, "json_body", None) or await request.body()


def validated(model: type[Model], body: Any) -> Model:
    """`model` from a raw body's bytes, or from the document already parsed from them (`json_body`)."""
    return model.model_validate_json(body) if isinstance(body, bytes) else model.model_validate(body)


def document_limits(openapi: dict[str, Any], limits: ColumnLimits) -> None:
    """Write the limits into an OpenAPI document, so clients (and generated tests) know them: maxLength on
    text and minimum/maximum on integers, by the same names the checks use, where the schema is wider."""
    for schema in openapi.get("components", {}).get("schemas", {}).values():
        for name, prop in (schema.get("properties") or {}).items():
            _bound(prop, name, limits)
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            for param in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if param.get("in") in ("query", "path"):
                    _bound(param.get("schema", {}), param["name"], limits)


def _bound(schema: dict[str, Any], name: str, limits: ColumnLimits) -> None:
    for variant in [schema, *schema.get("anyOf", []), schema.get("items") or {}]:
        kind = variant.get("type")
        longest = limits.length(name)
        if kind == "string" and longest is not None and variant.get("maxLength", longest + 1) > longest:
            variant["maxLength"] = longest
        elif kind == "integer":
            low, high = limits.int_range(name)
            variant["minimum"] = max(variant.get("minimum", low), low)
            variant["maximum"] = min(variant.get("maximum", high), high)
