"""`tandem demo` leaves nothing running after two Ctrl-C, the second one during its shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from shared.settings import REPO_ROOT


def _children(pid: int) -> set[int]:
    """Every live descendant of `pid` (from /proc; services run in their own sessions, not our group)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for_line(lines: list[str], text: str, proc: subprocess.Popen[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not any(text in line for line in lines):
        assert proc.poll() is None, "".join(lines)
        assert time.monotonic() < deadline, f"no {text!r} in:\n{''.join(lines)}"
        time.sleep(0.1)


def test_two_sigints_during_shutdown_leave_no_process_running() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tandem.cli", "demo", "--creators", "60", "--broker", "tansu"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        _wait_for_line(lines, "[3/7]", proc, 120)  # broker and four services are up
        started = _children(proc.pid)
        assert len(started) >= 5, f"expected the broker and four services, found {started}"
        os.kill(proc.pid, signal.SIGINT)
        _wait_for_line(lines, "Stopping the services", proc, 60)
        os.kill(proc.pid, signal.SIGINT)  # the impatient second Ctrl-C, while the services stop
        proc.wait(timeout=60)
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in started if _alive(p)], "".join(lines)
        assert "Traceback" not in "".join(lines)
    finally:
        for p in _children(proc.pid) | {proc.pid}:
            if _alive(p):
                os.kill(p, signal.SIGKILL)
