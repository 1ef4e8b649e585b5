"""Kafka authentication options reach every client; each service's ACLs give it its own topics only."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from shared import topics
from shared.bus.security import READ, WRITE, client_options, grants
from shared.settings import ServiceSettings
from tandem.services import SERVICES


def test_plaintext_needs_no_credentials() -> None:
    assert client_options(ServiceSettings(service_name="fraud")) == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_uses_the_service_user_and_the_cluster_ca() -> None:
    s = ServiceSettings(service_name="fraud", kafka_security_protocol="SASL_SSL", kafka_sasl_password="pw",
                        kafka_ssl_cafile="/etc/kafka/ca.pem")  # fmt: skip
    assert client_options(s) == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "fraud",
        "sasl_plain_password": "pw", "ssl_cafile": "/etc/kafka/ca.pem",
    }  # fmt: skip


def test_mtls_passes_the_client_certificate() -> None:
    s = ServiceSettings(service_name="review", kafka_security_protocol="SSL", kafka_ssl_certfile="/c.pem",
                        kafka_ssl_keyfile="/k.pem")  # fmt: skip
    assert client_options(s) == {
        "security_protocol": "SSL",
        "ssl_certfile": "/c.pem",
        "ssl_keyfile": "/k.pem",
    }


@pytest.mark.parametrize("client", [KafkaProducer, KafkaConsumer, KafkaAdminClient])
def test_every_option_is_one_the_kafka_clients_know(client: type) -> None:
    s = ServiceSettings(service_name="fraud", kafka_security_protocol="SASL_SSL", kafka_sasl_password="pw",
                        kafka_ssl_cafile="/ca", kafka_ssl_certfile="/c", kafka_ssl_keyfile="/k")  # fmt: skip
    assert set(client_options(s)) <= set(client.DEFAULT_CONFIG)


def test_keys_mode_refuses_sasl_without_a_password() -> None:
    s = ServiceSettings(service_name="fraud", kafka_security_protocol="SASL_SSL", secrets_key="k" * 40)
    assert s.production_problems() == ["fraud's kafka_sasl_password is not set"]


@pytest.mark.parametrize("name", list(SERVICES))
def test_a_service_may_write_only_its_own_topics_and_its_dead_letters(name: str) -> None:
    spec = SERVICES[name].spec
    plan = grants(name, spec.consumes, f"tandem-{name}")
    writes = {g.name for g in plan if g.operation == WRITE}
    owned = {t for t, producers in topics.PRODUCERS.items() if name in producers}
    assert writes == owned | {topics.dlq(t) for t in spec.consumes}
    assert {g.name for g in plan if g.operation == READ and g.resource == "topic"} == set(spec.consumes)
    assert [g.name for g in plan if g.resource == "group"] == [f"tandem-{name}"]
    assert {g.user for g in plan} == {name}


def test_only_fraud_may_write_fraud_scores() -> None:
    writers = {name for name, e in SERVICES.items()
               for g in grants(name, e.spec.consumes, "g") if g.operation == WRITE and g.name == topics.FRAUD_SCORES}  # fmt: skip
    assert writers == {"fraud"}


def test_every_topic_has_producers_and_every_producer_is_a_service() -> None:
    assert set(topics.PRODUCERS) == {t.name for t in topics.TOPICS}
    assert set().union(*topics.PRODUCERS.values()) <= set(SERVICES)
