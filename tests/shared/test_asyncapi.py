"""The AsyncAPI document covers every topic and event, and the committed copy is current."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import yaml

from shared.asyncapi import document
from shared.bus.outbox import Outbox
from shared.bus.tables import OutboxMessage
from shared.events import EVENT_TYPES, Event
from shared.topics import TOPICS
from tandem.commands.docs import ASYNCAPI_PATH, render_asyncapi
from tests.busutil import contract_violations


def test_every_topic_is_a_channel_with_its_address() -> None:
    doc = document()
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {t.name for t in TOPICS}


def test_every_event_type_is_a_message_with_a_payload_schema() -> None:
    doc = document()
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert names == set(EVENT_TYPES)
    for message in doc["components"]["messages"].values():
        ref = message["payload"]["allOf"][1]["properties"]["payload"]["$ref"]
        assert ref.split("/")[-1] in doc["components"]["schemas"]


def test_no_dangling_schema_references() -> None:
    text = render_asyncapi()
    doc = yaml.safe_load(text)
    refs = {line.split("#/components/schemas/")[1].strip("'\" ") for line in text.splitlines()
            if "#/components/schemas/" in line}  # fmt: skip
    assert refs <= set(doc["components"]["schemas"])


def test_committed_document_matches_the_event_schemas() -> None:
    assert ASYNCAPI_PATH.read_text() == render_asyncapi(), (
        "run `tandem docs asyncapi` and commit docs/asyncapi.yaml"
    )


# --- the document validates real messages (issue 15: it rejected all 282 sampled) ------------------------


def _example(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A valid value for a pydantic JSON schema: every property filled, within its bounds."""
    if "$ref" in schema:
        return _example(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][-1]
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"] or schema["anyOf"]
        return _example(options[0], defs)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        if not props:
            return {"k": 1.5} if schema.get("additionalProperties") else {}
        return {name: _example(sub, defs) for name, sub in props.items()}
    if kind == "array":
        return [_example(schema.get("items", {"type": "string"}), defs)] * max(1, schema.get("minItems", 1))
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", schema.get("exclusiveMinimum", 0)), schema.get("maximum", 10**6)
        middle = (low + high) / 2 if high - low < 10 else low + 1
        return round(middle) if kind == "integer" else middle
    return True if kind == "boolean" else None


def _string(schema: dict[str, Any]) -> str:
    fixed = {"date-time": "2026-01-02T03:04:05.678901Z", "date": "2026-01-02", "uuid": str(uuid.uuid4())}
    if schema.get("format") in fixed:
        return fixed[schema["format"]]
    return "US"[: schema.get("maxLength", 2)] if schema.get("maxLength", 99) <= 2 else "text-1"


def _one_of_each() -> list[Event]:
    return [cls.model_validate(_example(cls.model_json_schema(), cls.model_json_schema().get("$defs", {})))
            for cls in EVENT_TYPES.values()]  # fmt: skip


@dataclass
class _Rows:
    """Stands in for a session: keeps what the outbox stages."""

    rows: list[OutboxMessage] = field(default_factory=list)

    def add(self, row: OutboxMessage) -> None:
        self.rows.append(row)


def test_one_event_of_every_type_through_the_outbox_validates_against_the_document() -> None:
    events = _one_of_each()
    staged = _staged(events)
    assembled = Outbox("discovery").messages(
        [
            (type(e), e.key(), orjson.dumps(e.model_dump(mode="json")), "acme", "cid", str(uuid.uuid4()))
            for e in events
        ]
    )  # the hot path's hand-assembled envelopes
    problems = [p for m in [*staged, *assembled] for p in contract_violations(m.topic, m.value, m.headers)]
    assert len(staged) == len(assembled) == len(EVENT_TYPES)
    assert problems == []


def test_the_document_rejects_a_payload_that_breaks_its_event_schema() -> None:
    [row] = _staged(_one_of_each()[:1])
    env = orjson.loads(row.value)
    env["payload"]["unexpected"] = 1
    env["org_id"] = 5
    problems = contract_violations(row.topic, orjson.dumps(env), row.headers)
    assert any("unexpected" in p for p in problems) and any("org_id" in p for p in problems)
    assert contract_violations(row.topic, row.value, {}) != []  # headers are part of the contract


def _staged(events: list[Event]) -> list[OutboxMessage]:
    staged = _Rows()
    for event in events:
        Outbox("discovery").stage(staged, event, org_id="acme")  # type: ignore[arg-type]
    return staged.rows
