"""A private PostgreSQL server for a benchmark run, configured the way docker-compose.yml configures the
deployment's, so a run can show both the machine's stock server and a configured one.

The stock server (Debian's defaults: 128 MB shared_buffers, 1 GB max_wal_size, no WAL compression) is a
development setting; a 1M-creator catalogue's indexes alone are ~1.3 GB. Durability is not touched:
fsync, synchronous_commit and full_page_writes keep their defaults.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.broker import free_port

# Keep in step with the postgres service's command in docker-compose.yml.
DEPLOYED_SETTINGS = {
    "shared_buffers": "2GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "wal_compression": "lz4",
    # The WAL writer writes and syncs the WAL in the background instead of the writing sessions: with the
    # stock 16 MB of buffers, a 5,000-creator bulk request (~37 MB of WAL) had its session write the WAL
    # itself and wait on segment syncs, with the cores ~10% idle; 1M ingest, alternated, 3 Dec: cores 98% vs
    # 89-90% busy, 7,331 vs 6,661 and 8,452 vs 8,051 creators/s on a slow host. Commits still wait for
    # their flush (synchronous_commit unchanged).
    "wal_buffers": "64MB",
    "wal_writer_delay": "10ms",
}


def _bindir() -> Path | None:
    """Where initdb and pg_ctl are (Debian keeps them off PATH), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _as_server_user(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; Debian's packages create the postgres user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def deployed_server() -> Iterator[str | None]:
    """The admin URL of a fresh server with DEPLOYED_SETTINGS on a free loopback port (removed at the
    end), or None when this machine has no PostgreSQL server binaries."""
    bindir = _bindir()
    if bindir is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="tandem-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    options = " ".join(f"-c {k}={v}" for k, v in DEPLOYED_SETTINGS.items())
    try:
        subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                        "--no-sync"]), check=True, capture_output=True)  # fmt: skip
        start = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "start",
                 "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 {options}"]  # fmt: skip
        subprocess.run(_as_server_user(start), check=True, capture_output=True)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
            subprocess.run(_as_server_user(stop), check=False, capture_output=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
