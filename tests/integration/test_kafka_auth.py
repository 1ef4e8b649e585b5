"""On Apache Kafka with SASL/SCRAM and ACLs, configured as docker-compose.yml configures it: `tandem topics
create|grant` as the admin, then each service connects as its own user and may write only its topics.

Needs Java and Maven with the Kafka 4.4 artefacts in the local Maven repository (no download): skipped
with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from kafka.errors import KafkaError, TopicAuthorizationFailedError

from shared import topics
from shared.broker import free_port
from shared.bus.producer import BusProducer
from shared.bus.security import client_options
from tandem.services import SERVICES

pytestmark = pytest.mark.integration
KAFKA_VERSION = "4.4.0"
JARS = Path(__file__).resolve().parents[2] / "var" / f"kafka-jars-{KAFKA_VERSION}"
ADMIN_PASSWORD = "admin-test-password-0123456789"
PASSWORDS = {name: f"{name}-test-password-0123456789" for name in SERVICES}
POM = f"""<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>tandem</groupId><artifactId>kafka-jars</artifactId><version>1</version><dependencies><dependency>
<groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{KAFKA_VERSION}</version>
</dependency></dependencies></project>"""


def _jars(tmp: Path) -> Path:
    if not (shutil.which("java") and shutil.which("mvn")):
        pytest.skip("needs java and mvn for Apache Kafka")
    if not JARS.exists():
        (tmp / "pom.xml").write_text(POM)
        got = subprocess.run(["mvn", "-q", "-o", "dependency:copy-dependencies", f"-DoutputDirectory={JARS}"],
                             cwd=tmp, capture_output=True, timeout=300)  # fmt: skip
        if got.returncode != 0:
            shutil.rmtree(JARS, ignore_errors=True)
            pytest.skip(f"Kafka {KAFKA_VERSION} is not in the local Maven repository (offline)")
    return JARS


def _properties(port: int, controller: int, data: Path) -> str:
    plain = ('org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" '
             f'password="{ADMIN_PASSWORD}" user_admin="{ADMIN_PASSWORD}";')  # fmt: skip
    return "\n".join([
        "process.roles=broker,controller", "node.id=1", f"controller.quorum.voters=1@127.0.0.1:{controller}",
        f"listeners=INTERNAL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
        f"advertised.listeners=INTERNAL://127.0.0.1:{port}",
        "listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "controller.listener.names=CONTROLLER", "inter.broker.listener.name=INTERNAL",
        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512", "sasl.mechanism.inter.broker.protocol=PLAIN",
        "sasl.mechanism.controller.protocol=PLAIN", "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        f"listener.name.internal.plain.sasl.jaas.config={plain}",
        f"listener.name.controller.plain.sasl.jaas.config={plain}",
        "listener.name.internal.scram-sha-512.sasl.jaas.config="
        "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users=User:admin", "allow.everyone.if.no.acl.found=false", "auto.create.topics.enable=false",
        f"log.dirs={data}", "offsets.topic.replication.factor=1", "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1", "group.initial.rebalance.delay.ms=0", "",
    ])  # fmt: skip


@pytest.fixture(scope="module")
def sasl_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("sasl-kafka")
    classpath = f"{_jars(tmp)}/*"
    port, controller = free_port(), free_port()
    config = tmp / "server.properties"
    config.write_text(_properties(port, controller, tmp / "data"))
    cluster = subprocess.run(["java", "-cp", classpath, "kafka.tools.StorageTool", "random-uuid"],
                             capture_output=True, text=True, check=True).stdout.split()[-1]  # fmt: skip
    subprocess.run(["java", "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", cluster, "-c",
                    str(config)], capture_output=True, check=True)  # fmt: skip
    with open(tmp / "kafka.log", "wb") as log:
        proc = subprocess.Popen(["java", "-Xmx512m", "-cp", classpath, "kafka.Kafka", str(config)],
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, f"Kafka exited; see {tmp / 'kafka.log'}"
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def _env(bootstrap: str) -> dict[str, str]:
    env = {**os.environ, "TANDEM_KAFKA_BOOTSTRAP": bootstrap, "TANDEM_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
           "TANDEM_KAFKA_ADMIN_USERNAME": "admin", "TANDEM_KAFKA_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "TANDEM_KAFKA_ADMIN_MECHANISM": "PLAIN"}  # fmt: skip
    env |= {f"TANDEM_{name.upper()}_KAFKA_SASL_PASSWORD": pw for name, pw in PASSWORDS.items()}
    return env


def _service(name: str) -> dict[str, object]:
    settings = SERVICES[name].settings(
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_password=PASSWORDS[name]
    )
    return client_options(settings)


def test_each_service_is_its_own_kafka_user_and_writes_only_its_topics(sasl_kafka: str) -> None:
    for command in ("create", "grant"):
        done = subprocess.run([sys.executable, "-m", "tandem.cli", "topics", command], env=_env(sasl_kafka),
                              capture_output=True, text=True, timeout=180)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    fraud = BusProducer(sasl_kafka, "fraud", security=_service("fraud"))
    try:
        fraud.send(topics.FRAUD_SCORES, "cr-1", b"{}", {"producer": "fraud"}).get(timeout=30)
        with pytest.raises(TopicAuthorizationFailedError):  # catalog.creators belongs to discovery
            fraud.send(topics.CATALOG_CREATORS, "cr-1", b"{}", {"producer": "fraud"}).get(timeout=30)
    finally:
        fraud.close()
    consumer = KafkaConsumer(topics.FRAUD_SCORES, bootstrap_servers=[sasl_kafka], group_id="tandem-review",
                             auto_offset_reset="earliest", enable_auto_commit=False, session_timeout_ms=6000,
                             heartbeat_interval_ms=1000, **_service("review"))  # fmt: skip
    got: list[object] = []
    deadline = time.monotonic() + 30
    while not got and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            got += records
    consumer.close()
    assert len(got) == 1  # review reads fraud's scores in its own group


def test_no_credentials_or_a_wrong_password_gets_nothing(sasl_kafka: str) -> None:
    quick = {"bootstrap_timeout_ms": 3000}  # how long the producer waits for a broker before giving up
    wrong = {**_service("fraud"), "sasl_plain_password": "not-the-password-0123456789", **quick}
    for security in (quick, wrong):
        with pytest.raises((KafkaError, RuntimeError)):
            BusProducer(sasl_kafka, "intruder", security=security).close()
