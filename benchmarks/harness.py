"""Load-test plumbing the HTTP benchmarks share: a trivial baseline app, uvicorn processes, wrk runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

REPO = Path(__file__).resolve().parents[1]
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def trivial_app() -> FastAPI:
    """The baseline: FastAPI's own cost for a request that does nothing."""
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def ensure_wrk() -> str:
    """wrk is a native load generator: far cheaper per request than any Python client (performance.md)."""
    path = shutil.which("wrk")
    if path:
        return path
    print("wrk (HTTP load generator) not found: installing it with `apt-get install -y wrk` ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("this benchmark needs wrk: run `apt-get install -y wrk` (as root) and retry")
    return path


def start_uvicorn(target: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """One uvicorn worker (uvloop + httptools) serving an app factory, in its own process."""
    cmd = [sys.executable, "-m", "uvicorn", target, "--factory", "--port", str(port), "--workers", "1"]
    cmd += ["--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **env}, start_new_session=True)


def wait_http(url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 in {timeout_s}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def wrk(
    binary: str,
    url: str,
    workdir: Path,
    connections: int,
    duration_s: int,
    body: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Requests/s and p50/p99 latency (ms) of GET (or POST `body`) at `connections` for `duration_s`."""
    cmd = [binary, "-t2", f"-c{connections}", f"-d{duration_s}s", "--latency"]
    if body is not None:
        script = workdir / "post.lua"
        payload = json.dumps(json.dumps(body))
        script.write_text(
            f'wrk.method = "POST"\nwrk.body = {payload}\nwrk.headers["Content-Type"] = "application/json"\n'
        )
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"^\s*50%\s+(\S+)\s*$", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"^\s*99%\s+(\S+)\s*$", out, re.M).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }
