"""How fast and how busy the machine was while a benchmark ran.

The benchmark machines are shared virtual machines whose speed drifts: the same pure-Python loop took
0.52 s to 1.22 s on one machine within a day, with no steal time reported, and CPU-bound figures (an
ingest rate) move with it. A result carries the probe taken next to it so it can be read against that.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

PROBE_ADDS = 2_000_000


def probe_ms(rounds: int = 3) -> float:
    """The best of `rounds` timings of a fixed pure-Python loop (PROBE_ADDS additions), in ms: lower is a
    faster machine. Best of, so a single preemption does not count."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for i in range(PROBE_ADDS):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def _cpu_jiffies() -> tuple[int, int]:
    """(all, idle + iowait) jiffies of every core since boot, from /proc/stat's first line."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]


@dataclass
class MachineCpu:
    """The machine's CPU use (every process, the database's too) between start() and stop()."""

    total: int = 0
    idle: int = 0
    seconds: float = 0.0

    def start(self) -> MachineCpu:
        self.total, self.idle = _cpu_jiffies()
        self.seconds = time.perf_counter()
        return self

    def stop(self) -> dict[str, float]:
        """busy: the share of every core's time in use; cpu_s: that time in core-seconds."""
        total, idle = _cpu_jiffies()
        wall = time.perf_counter() - self.seconds
        busy = 1 - (idle - self.idle) / max(total - self.total, 1)
        return {"busy": round(busy, 3), "cpu_s": round(busy * (os.cpu_count() or 1) * wall, 2)}
