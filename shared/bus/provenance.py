"""Who produced an event, and may they: every event names its producing service (the `producer`
header, stamped by the outbox, and the envelope's `producer`), and a consumer applies it only if that
service may publish to the topic (`shared.topics.PRODUCERS`). Anything else is dead-lettered with the
reason, so an event with a made-up organisation from an unknown producer is never applied.

The names are claims; what makes them hold in a deployment is Kafka authentication with per-service
WRITE ACLs on exactly these topics (deploy/README.md, `tandem topics acls`): a client that is not the
owning service cannot put a record on the topic at all, and a service cannot speak for another.
"""

from __future__ import annotations

from kafka.consumer.fetcher import ConsumerRecord

from shared.topics import PRODUCERS, may_produce

PRODUCER_HEADER = "producer"


def header(record: ConsumerRecord, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode(errors="replace")
    return None


def refusal(record: ConsumerRecord, envelope_producer: str) -> str | None:
    """Why the record's producer may not speak on its topic, or None when it may."""
    stamped = header(record, PRODUCER_HEADER)
    if stamped is None:
        return "no producer header: only Tandem's services publish events"
    if stamped != envelope_producer:
        return f"producer header {stamped!r} disagrees with the envelope's producer {envelope_producer!r}"
    if not may_produce(envelope_producer, record.topic):
        owners = ", ".join(sorted(PRODUCERS.get(record.topic, ()))) or "nobody"
        return f"producer {envelope_producer!r} may not publish to {record.topic} (its producers: {owners})"
    return None
