"""The AsyncAPI document covers every topic and event, and the committed copy is current."""

from __future__ import annotations

import yaml

from shared.asyncapi import document
from shared.events import EVENT_TYPES
from shared.topics import TOPICS
from tandem.commands.docs import ASYNCAPI_PATH, render_asyncapi


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
