"""Topic administration: create every topic with an explicit partition count (auto-creation is off)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from shared.settings import BROKER_HEADROOM_BYTES, MAX_MESSAGE_BYTES
from shared.topics import TopicSpec, all_topics

# Set on every topic we create, so the size limit holds whatever the cluster's default (shared.settings).
TOPIC_CONFIGS = {"max.message.bytes": str(MAX_MESSAGE_BYTES + BROKER_HEADROOM_BYTES)}

log = logging.getLogger(__name__)


def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicSpec] | None = None,
    timeout_s: float = 30,
    replication_factor: int = 1,
    security: Mapping[str, Any] | None = None,
) -> list[str]:
    """Create the missing topics; returns the names it created. Retries while the broker starts."""
    wanted = list(specs or all_topics())
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap.split(","), client_id="tandem-admin", **dict(security or {})
            )
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        existing = set(admin.list_topics())
        missing = [s for s in wanted if s.name not in existing]
        created: list[str] = []
        for spec in missing:
            try:
                admin.create_topics(
                    [
                        NewTopic(
                            spec.name,
                            num_partitions=spec.partitions,
                            replication_factor=replication_factor,
                            topic_configs=TOPIC_CONFIGS,
                        )
                    ]
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        # Only topics made here are sure to have the spec's partition count: tansu auto-creates a topic
        # (4 partitions) on any producer's metadata request, whatever the client asks, so after it restarts
        # a relay can win the race; waiting for 6 partitions of that topic would never end.
        _wait_for_leaders(admin, wanted, set(created), deadline)
        return created
    finally:
        admin.close()


def _wait_for_leaders(
    admin: KafkaAdminClient, wanted: list[TopicSpec], created: set[str], deadline: float
) -> None:
    """Until every topic shows its partitions with a leader: all of the spec's for a topic created here,
    all it reports for one that was there. Kafka answers CreateTopics before the broker serves the new
    partitions; a consumer that joins in between is assigned nothing until its next metadata refresh,
    so start-up waits here instead."""
    pending = {s.name: s for s in wanted}
    while pending:
        try:
            for t in admin.describe_topics(list(pending)):
                spec, partitions = pending[t["name"]], t.get("partitions", [])
                led = sum(1 for p in partitions if p.get("leader_id", -1) >= 0)
                expected = spec.partitions if spec.name in created else max(len(partitions), 1)
                if t.get("error_code", 0) == 0 and led >= expected:
                    if led != spec.partitions:
                        log.warning("topic made elsewhere with another partition count than its spec",
                                    extra={"fields": {"topic": spec.name, "partitions": led, "spec": spec.partitions}})  # fmt: skip
                    pending.pop(spec.name)
        except KafkaError:
            pass  # not ready yet: ask again
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"topics without leaders after start-up: {sorted(pending)[:5]}")
        if pending:
            time.sleep(0.2)
