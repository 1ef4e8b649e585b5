"""An AsyncAPI 3.0 document of every topic, generated from the event schemas (never written by hand)."""

from __future__ import annotations

from typing import Any

from shared.events import EVENT_TYPES, Envelope
from shared.topics import TOPICS, dlq

# Kafka headers of every event (shared.bus.outbox.envelope_headers), as strings.
HEADERS = ("event_id", "event_type", "schema_version", "correlation_id", "org_id", "producer")


def _message_name(event_type: str) -> str:
    return "".join(part.capitalize() for part in event_type.replace(".", "_").split("_"))


def document(version: str = "0.1.0") -> dict[str, Any]:
    envelope = Envelope.model_json_schema()
    # Any object here; each message narrows `payload` to its event's schema (the envelope forbids other
    # properties, so `payload` must stay one of them). Every field is on the wire, defaults included.
    envelope["properties"]["payload"] = {"type": "object", "description": "The event; see the message."}
    envelope["required"] = list(envelope["properties"])
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Envelope": envelope}
    for spec in TOPICS:
        kinds = [cls for cls in EVENT_TYPES.values() if cls.topic == spec.name]
        refs = {}
        for cls in kinds:
            name = _message_name(cls.event_type)
            schemas[name] = cls.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schemas[name].pop("$defs", {}))
            messages[name] = {
                "name": cls.event_type,
                "title": cls.__name__,
                "summary": (cls.__doc__ or "").strip().split("\n")[0] or cls.__name__,
                "contentType": "application/json",
                "headers": {"type": "object", "required": list(HEADERS),
                            "properties": {h: {"type": "string"} for h in HEADERS}},
                "payload": {"allOf": [{"$ref": "#/components/schemas/Envelope"},
                                      {"type": "object", "properties": {
                                          "type": {"const": cls.event_type},
                                          "schema_version": {"const": cls.schema_version},
                                          "key": {"description": f"the {cls.key_field}"},
                                          "payload": {"$ref": f"#/components/schemas/{name}"}}}]},
            }  # fmt: skip
            refs[name] = {"$ref": f"#/components/messages/{name}"}
        channel = spec.name.replace(".", "_")
        channels[channel] = {
            "address": spec.name,
            "description": f"{spec.partitions} partitions; keyed by aggregate id; dead letters go to {dlq(spec.name)}",
            "messages": refs,
        }
        operations[f"publish_{channel}"] = {"action": "send", "channel": {"$ref": f"#/channels/{channel}"}}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Tandem events", "version": version,
                 "description": "Every event travels in the Envelope; `payload` holds the typed event."},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }  # fmt: skip
