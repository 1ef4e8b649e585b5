"""The event envelope: wrap/unwrap, version and type checks, strictness and the wire format."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest
from pydantic import ValidationError

from shared import topics
from shared.events import (
    EVENT_TYPES,
    AccountStats,
    CreatorUpserted,
    Envelope,
    FraudScored,
    MarketStats,
    Reason,
    UnknownEventType,
    derived_event_id,
    parse_envelope,
    parse_typed,
    unwrap,
    wrap,
)


def _creator(creator_id: str = "cr-1") -> CreatorUpserted:
    account = AccountStats(platform="instagram", handle="ann", followers=12_000, following=300, posts=420,
                           engagement_rate=0.021, avg_likes=240, avg_comments=12)  # fmt: skip
    return CreatorUpserted(
        creator_id=creator_id, name="Ann", home_market="US", languages=["en"], categories=["beauty"],
        accounts=[account], audience=[MarketStats(market="US", audience_share=0.6, engagement_rate=0.02)],
        price_usd=150.0, updated_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    )  # fmt: skip


def _wrapped(event: CreatorUpserted | None = None) -> Envelope:
    return wrap(event or _creator(), producer="discovery", correlation_id="cid-1", org_id="acme")


def test_wrap_fills_metadata_from_event_class() -> None:
    env = _wrapped()
    assert env.type == "creator.upserted"
    assert env.schema_version == 1
    assert env.key == "cr-1"
    assert (env.producer, env.correlation_id, env.org_id) == ("discovery", "cid-1", "acme")
    assert isinstance(env.event_id, uuid.UUID)
    assert env.occurred_at.tzinfo is not None


def test_unwrap_round_trip_returns_equal_event() -> None:
    event = _creator()
    back = unwrap(_wrapped(event))
    assert isinstance(back, CreatorUpserted)
    assert back == event


def test_wrap_gives_each_envelope_new_event_id() -> None:
    event = _creator()
    assert _wrapped(event).event_id != _wrapped(event).event_id


def test_event_key_uses_key_field_of_event_type() -> None:
    scored = FraudScored(creator_id="cr-9", risk=0.4, level="medium", reasons=[Reason(code="c", text="t")],
                         model_name="fraud_risk", model_version="1", scored_at=datetime.now(UTC))  # fmt: skip
    env = wrap(scored, producer="fraud", correlation_id="c", org_id="o")
    assert env.key == "cr-9"
    assert env.type == "fraud.scored"


def test_unwrap_rejects_unknown_type() -> None:
    env = _wrapped().model_copy(update={"type": "creator.deleted"})
    with pytest.raises(UnknownEventType, match=r"unknown event type 'creator\.deleted'"):
        unwrap(env)


def test_unwrap_rejects_newer_schema_version() -> None:
    env = _wrapped().model_copy(update={"schema_version": 2})
    with pytest.raises(UnknownEventType, match=r"creator.upserted v2 is newer"):
        unwrap(env)


def test_unwrap_accepts_older_schema_version() -> None:
    env = _wrapped().model_copy(update={"schema_version": 0})
    assert isinstance(unwrap(env), CreatorUpserted)


def test_event_rejects_extra_field() -> None:
    fields = _creator().model_dump()
    with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
        CreatorUpserted(**fields, followers_bought=True)


def test_unwrap_rejects_payload_with_extra_field() -> None:
    env = _wrapped()
    bad = env.model_copy(update={"payload": {**env.payload, "surprise": 1}})
    with pytest.raises(ValidationError) as info:
        unwrap(bad)
    assert any(e["loc"] == ("surprise",) for e in info.value.errors())


def test_envelope_rejects_extra_field() -> None:
    raw = orjson.loads(_wrapped().to_bytes())
    raw["trace"] = "x"
    with pytest.raises(ValidationError):
        parse_envelope(orjson.dumps(raw))


def test_envelope_rejects_naive_occurred_at() -> None:
    raw = orjson.loads(_wrapped().to_bytes())
    raw["occurred_at"] = "2026-01-01T00:00:00"
    with pytest.raises(ValidationError, match="occurred_at"):
        parse_envelope(orjson.dumps(raw))


def test_envelope_is_frozen() -> None:
    env = _wrapped()
    with pytest.raises(ValidationError):
        env.org_id = "other"  # type: ignore[misc]


def test_envelope_bytes_parse_back_to_equal_envelope() -> None:
    env = _wrapped()
    raw = env.to_bytes()
    assert isinstance(raw, bytes)
    back = parse_envelope(raw)
    assert back == env
    assert unwrap(back) == unwrap(env)


def test_envelope_bytes_are_plain_json_with_string_event_id() -> None:
    doc = orjson.loads(_wrapped().to_bytes())
    assert set(doc) == {"event_id", "type", "schema_version", "occurred_at", "producer", "correlation_id",
                        "org_id", "key", "payload"}  # fmt: skip
    assert str(uuid.UUID(doc["event_id"])) == doc["event_id"]
    assert doc["payload"]["accounts"][0]["followers"] == 12_000


def test_parse_envelope_rejects_invalid_json() -> None:
    with pytest.raises(ValidationError):
        parse_envelope(b"{not json")


def test_event_types_registry_covers_every_topic_event() -> None:
    known_topics = {t.name for t in topics.TOPICS}
    for name, cls in EVENT_TYPES.items():
        assert cls.event_type == name
        assert cls.topic in known_topics, f"{name} publishes to unknown topic {cls.topic}"
        assert cls.key_field in cls.model_fields, f"{name} keys on missing field {cls.key_field}"


def test_account_stats_rejects_engagement_rate_above_one() -> None:
    with pytest.raises(ValidationError, match="engagement_rate"):
        AccountStats(platform="instagram", handle="h", followers=10, engagement_rate=1.5)


def test_parse_typed_reads_what_parse_envelope_then_unwrap_read() -> None:
    env = _wrapped()
    event, meta = parse_typed(env.to_bytes(), CreatorUpserted)
    assert event == unwrap(env)
    assert (meta.event_id, meta.type, meta.org_id, meta.correlation_id, meta.key, meta.occurred_at) == (
        env.event_id, env.type, env.org_id, env.correlation_id, env.key, env.occurred_at
    )  # fmt: skip


def test_parse_typed_refuses_another_type_a_newer_version_and_a_bad_payload() -> None:
    raw = orjson.loads(_wrapped().to_bytes())
    with pytest.raises(UnknownEventType):
        parse_typed(orjson.dumps({**raw, "type": "fraud.scored"}), CreatorUpserted)
    with pytest.raises(UnknownEventType):
        parse_typed(orjson.dumps({**raw, "schema_version": 2}), CreatorUpserted)
    with pytest.raises(ValidationError, match="followers"):
        bad = {
            **raw,
            "payload": {**raw["payload"], "accounts": [{**raw["payload"]["accounts"][0], "followers": -1}]},
        }
        parse_typed(orjson.dumps(bad), CreatorUpserted)
    with pytest.raises(ValidationError):
        parse_typed(orjson.dumps({**raw, "surprise": 1}), CreatorUpserted)


def test_derived_event_id_is_uuid5_of_the_source_id_and_type() -> None:
    for _ in range(200):
        source = uuid.uuid4()
        assert derived_event_id(source, "fraud.scored") == str(uuid.uuid5(source, "fraud.scored"))
    assert derived_event_id(source, "fraud.scored") != derived_event_id(source, "fraud.anomaly")
