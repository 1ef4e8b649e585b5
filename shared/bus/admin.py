"""Topic administration: create every topic with an explicit partition count (auto-creation is off)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from shared.topics import TopicSpec, all_topics


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
                            spec.name, num_partitions=spec.partitions, replication_factor=replication_factor
                        )
                    ]
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()
