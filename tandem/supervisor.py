"""Run service processes side by side (for the demo and the end-to-end tests), each its own OS process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.broker import free_port
from tandem.services import SERVICES


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tandem.cli", "serve", self.name],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: the crash case (no shutdown hooks, no final commit)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def terminate(self) -> None:
        """SIGTERM without waiting: the start of a controlled shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def hurry(self) -> None:
        """SIGKILL without waiting, safe inside a signal handler (no lock taken, unlike `kill`)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)

    def stop(self) -> None:
        self.terminate()
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        last = ""
        while time.monotonic() < deadline:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                r = httpx.get(f"{self.url}/health/ready", timeout=2)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout_s}s: {last}; see {self.log_path}")


@dataclass
class Suite:
    """The four services wired to one broker, each with its own database."""

    bootstrap: str
    workdir: Path
    database_urls: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    def add(self, name: str, port: int | None = None, replica: int = 0) -> ServiceProcess:
        """One process of service `name`; `replica` > 0 adds another process of it (same group),
        kept as `<name>-<replica>`."""
        entry = SERVICES[name]
        label = f"{name}-{replica}" if replica else name
        prefix = entry.env_prefix
        port = port or free_port()
        env = {
            **os.environ,
            "TANDEM_KAFKA_BOOTSTRAP": self.bootstrap,
            "TANDEM_DATA_DIR": str(self.workdir),
            f"{prefix}PORT": str(port),
            **self.extra_env,
        }
        if name in self.database_urls:
            env[f"{prefix}DATABASE_URL"] = self.database_urls[name]
        self.workdir.mkdir(parents=True, exist_ok=True)
        proc = ServiceProcess(name, port, env, self.workdir / f"{label}.log")
        self.processes[label] = proc
        return proc

    def start(self, names: list[str] | None = None, ports: dict[str, int] | None = None) -> Suite:
        for name in names or list(SERVICES):
            self.add(name, (ports or {}).get(name)).start()
        for proc in self.processes.values():
            proc.wait_ready()
        return self

    def stop(self) -> None:
        """All of them at once (SIGTERM), then wait for each: shutdown takes the slowest, not the sum."""
        for proc in self.processes.values():
            proc.terminate()
        for proc in self.processes.values():
            proc.stop()

    def hurry(self) -> None:
        for proc in self.processes.values():
            proc.hurry()

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.processes[name]
