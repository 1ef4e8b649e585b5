"""Kafka authentication and authorisation: client options from the settings, and the access each
service needs (its own user, WRITE only on the topics it owns), applied by `tandem topics grant`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.settings import ServiceSettings
from shared.topics import PRODUCERS, dlq

# What a service may do on a topic, in Kafka ACL operation names.
READ, WRITE = "READ", "WRITE"


def client_options(settings: ServiceSettings, username: str = "", password: str = "") -> dict[str, Any]:
    """kafka-python options (producer, consumer and admin alike) for the configured security protocol."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol.startswith("SASL"):
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": username or settings.kafka_sasl_username or settings.service_name,
            "sasl_plain_password": password or settings.kafka_sasl_password,
        }
    if protocol.endswith("SSL"):
        tls = {"ssl_cafile": settings.kafka_ssl_cafile, "ssl_certfile": settings.kafka_ssl_certfile,
               "ssl_keyfile": settings.kafka_ssl_keyfile}  # fmt: skip
        options |= {k: v for k, v in tls.items() if v}
    return options


@dataclass(frozen=True)
class Grant:
    """One ACL: `user` may do `operation` on a topic or a consumer group."""

    user: str
    operation: str
    resource: str  # "topic" | "group"
    name: str


def grants(service: str, consumes: Iterable[str], group: str, user: str = "") -> list[Grant]:
    """Everything `service` needs and nothing more: WRITE on the topics it owns and on the dead-letter
    topics of what it consumes; READ on what it consumes and on its consumer group."""
    consumed = sorted(set(consumes))
    owned = sorted(t for t, producers in PRODUCERS.items() if service in producers)
    who = user or service
    out = [Grant(who, WRITE, "topic", t) for t in [*owned, *(dlq(t) for t in consumed)]]
    out += [Grant(who, READ, "topic", t) for t in consumed]  # READ and WRITE imply DESCRIBE
    return [*out, Grant(who, READ, "group", group)]


def apply_grants(admin: Any, all_grants: list[Grant], passwords: Mapping[str, str], mechanism: str) -> None:
    """Create (or update) the services' SCRAM users and their ACLs with a kafka-python admin client."""
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ResourcePattern,
        ResourceType,
        UserScramCredentialUpsertion,
    )

    if passwords:
        admin.alter_user_scram_credentials(
            [UserScramCredentialUpsertion(user, mechanism, pw) for user, pw in passwords.items()]
        )
    kinds = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}
    admin.create_acls([
        ACL(f"User:{g.user}", "*", ACLOperation[g.operation], ACLPermissionType.ALLOW,
            ResourcePattern(kinds[g.resource], g.name))
        for g in all_grants
    ])  # fmt: skip
