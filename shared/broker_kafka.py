"""Apache Kafka (KRaft, one node) for tests, benchmarks and people, beside tansu's `LocalBroker`.

The broker is Apache Kafka's own jars (`org.apache.kafka:kafka_2.13`), resolved from Maven Central by
deploy/kafka/pom.xml into a cache folder reused across runs (~/.cache/tandem/kafka-<version>), and run
with the JVM straight from them: no tarball, no Docker.

Measured on the 2-core project machines (Kafka 4.4.0, Java 17, kafka-python 3.0.12):
- resolving the jars: ~10 s once (44 jars, 43 MB); formatting the store ~2-5 s (one JVM start);
  the broker answers 4-17 s after exec (the top figure at load average ~10). One broker per test session.
- memory: ~330 MB RSS idle with -Xmx512m.
- kafka-python 3.0 talks to Kafka 4.x without pinning `api_version` (KIP-896 kept its versions).
- pitfalls: `group.min.session.timeout.ms` defaults to 6000 (our 6 s session is the floor, so it is
  lowered here for tests that use shorter ones); `offsets.topic.num.partitions` defaults to 50, created
  on the first group join (seconds on a busy machine), so it is 5 here; the jars bring slf4j 1.7 but no
  binding, so the pom adds log4j-slf4j-impl or the broker logs nothing at all.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

from shared.broker import BrokerKind, free_port, wait_for_port
from shared.bus.admin import ensure_topics
from shared.settings import BROKER_HEADROOM_BYTES, MAX_MESSAGE_BYTES, REPO_ROOT

POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"
# Roughly what bin/kafka-run-class.sh passes, with a smaller heap: one node with a few topics.
JVM_FLAGS = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExplicitGCInvokesConcurrent",
             "-Djava.awt.headless=true"]  # fmt: skip
LOG4J2 = """\
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


def kafka_version() -> str:
    """The version the pom pins (the pom is the one place it is written)."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    if match is None:
        raise RuntimeError(f"no <kafka.version> in {POM}")
    return match.group(1)


def jar_cache() -> Path:
    """Where the jars live: TANDEM_KAFKA_JARS, else the user's cache folder keyed by version."""
    if explicit := os.environ.get("TANDEM_KAFKA_JARS"):
        return Path(explicit)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "tandem" / f"kafka-{kafka_version()}"


def _complete(folder: Path) -> bool:
    return (folder / ".complete").exists()


def kafka_available() -> bool:
    """Java is there, and the jars are cached or Maven can fetch them."""
    return shutil.which("java") is not None and (_complete(jar_cache()) or shutil.which("mvn") is not None)


def ensure_jars() -> Path:
    """The jar folder, resolved with Maven the first time (under a lock: parallel runs share the cache)."""
    folder = jar_cache()
    if _complete(folder):
        return folder
    if shutil.which("mvn") is None:
        raise RuntimeError(f"Apache Kafka's jars are not in {folder} and Maven (mvn) is not installed")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _complete(folder):
            return folder
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        done = subprocess.run(
            ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", "-DincludeScope=runtime",
             f"-DoutputDirectory={staging}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeError(f"mvn could not resolve Apache Kafka:\n{(done.stdout + done.stderr)[-2000:]}")
        (staging / ".complete").touch()
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    return folder


def server_properties(port: int, controller_port: int, log_dir: Path) -> str:
    """A KRaft single node: broker and controller in one process, every replication factor 1; it accepts
    every record our producers let through (`message.max.bytes`, see shared.settings.MAX_MESSAGE_BYTES)."""
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={log_dir}
auto.create.topics.enable=false
num.partitions=1
num.network.threads=2
num.io.threads=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
message.max.bytes={MAX_MESSAGE_BYTES + BROKER_HEADROOM_BYTES}
"""


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the thread that started it dies (Linux), so a test run
    that is killed does not leave a 500 MB JVM behind on a shared machine."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _cluster_id() -> str:
    """What `StorageTool random-uuid` prints (a UUID, base64url without padding), without a JVM start."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class KafkaBroker:
    """Starts Apache Kafka on free loopback ports, creates the topics, and stops it with SIGTERM.

    The data folder outlives `stop()`, so a `start()` after it is a broker restart with every topic,
    message and committed offset still there; `close()` (or leaving the `with` block) removes a data
    folder this object made.
    """

    kind: BrokerKind = "kafka"

    def __init__(
        self, port: int | None = None, data_dir: Path | None = None, log_path: Path | None = None,
        heap: str = "512m", start_timeout_s: float = 120,
    ) -> None:  # fmt: skip
        self.port = port or free_port()
        self.controller_port = free_port()
        self._own_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="tandem-kafka-"))
        self.log_path = log_path or self.data_dir / "kafka.log"
        self.heap, self.start_timeout_s = heap, start_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, jars: Path, main: str, *args: str, heap: str = "256m") -> list[str]:
        return ["java", f"-Xmx{heap}", *JVM_FLAGS, f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
                "-cp", f"{jars}/*", main, *args]  # fmt: skip

    def _configure(self, jars: Path) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        store = self.data_dir / "store"
        config.write_text(server_properties(self.port, self.controller_port, store))
        (self.data_dir / "log4j2.properties").write_text(LOG4J2)
        if not (store / "meta.properties").exists():  # a restart keeps the formatted store
            cmd = self._java(
                # `--cluster-id=ID` in one argument: a base64url id starts with "-" one time in 64, and
                # the tool's parser then reads it as an option ("expected one argument").
                jars,
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={_cluster_id()}",
                "-c",
                str(config),
            )
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(
                    f"formatting the KRaft store failed:\n{(done.stdout + done.stderr)[-2000:]}"
                )
        return config

    def start(self, create_topics: bool = True) -> KafkaBroker:
        jars = ensure_jars()
        config = self._configure(jars)
        with open(self.log_path, "ab") as out:
            self._proc = subprocess.Popen(
                self._java(jars, "kafka.Kafka", str(config), heap=self.heap),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
            )  # fmt: skip
        try:
            self._wait_until_listening()
            if create_topics:
                ensure_topics(self.bootstrap, timeout_s=self.start_timeout_s)
        except Exception:
            self.stop()
            raise
        return self

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"Kafka exited with {self._proc.returncode}; {self.log_path}:\n{tail}")
            try:
                wait_for_port("127.0.0.1", self.port, timeout_s=0.5)
                return
            except TimeoutError:
                continue
        raise TimeoutError(f"Kafka not listening on {self.bootstrap} after {self.start_timeout_s}s")

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout_s: float = 30) -> None:
        """SIGTERM (a controlled shutdown that flushes the logs), then SIGKILL if it hangs."""
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.close()


def main() -> int:
    """`python -m shared.broker_kafka`: fetch the jars if needed and print their folder (for make)."""
    try:
        print(ensure_jars())
    except RuntimeError as exc:
        print(f"Apache Kafka's jars: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
