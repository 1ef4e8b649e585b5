"""Hot swap under load: requests keep flowing to a real forecast service while the champion changes.

One uvicorn process of the forecast service scores `POST /v1/forecasts/predict` for client threads; the
same load runs twice, first with no promotion (baseline), then with the champion pointer flipped between
two versions every SWAP_EVERY_S (promote, rollback, ...), which the service's ModelWatcher follows. Every
failed or dropped request (non-200, connection error, timeout) is counted: the target is zero. Throughput
and p99 latency are reported as ratios to the baseline measured in the same run.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.bench_forecast import SINGLE
from benchmarks.harness import start_uvicorn, stop, wait_http
from shared.model_registry import ModelRegistry
from shared.settings import REPO_ROOT

CLIENTS = 8
DURATION_S = 8.0
SWAP_EVERY_S = 0.5
WATCH_INTERVAL_S = 0.1


def _registry(tmp: Path) -> ModelRegistry:
    """The shipped models, plus a copy of the forecast champion registered as a second version."""
    root = tmp / "models"
    for name in ("forecast", "page_posts"):
        shutil.copytree(REPO_ROOT / "models" / name, root / name)
    registry = ModelRegistry(root)
    champion = registry.champion_version("forecast")
    twin = registry.next_version("forecast")
    shutil.copytree(root / "forecast" / champion, root / "forecast" / twin)
    card = json.loads((root / "forecast" / twin / "card.json").read_text())
    card |= {"version": twin, "parent_version": champion, "notes": "bench_hotswap twin of the champion"}
    (root / "forecast" / twin / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    return registry


def _load(url: str, stop: threading.Event, out: list[dict[str, Any]]) -> None:
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                r = client.post(url, json=SINGLE)
                ok = r.status_code == 200
                version = r.json().get("model_version") if ok else None
            except httpx.HTTPError:
                ok, version = False, None
            out.append({"ok": ok, "ms": (time.perf_counter() - t0) * 1000, "version": version})


def _phase(url: str, swap: Any | None) -> dict[str, Any]:
    stop = threading.Event()
    per_thread: list[list[dict[str, Any]]] = [[] for _ in range(CLIENTS)]
    threads = [threading.Thread(target=_load, args=(url, stop, o)) for o in per_thread]
    for t in threads:
        t.start()
    swaps, started = 0, time.monotonic()
    while time.monotonic() - started < DURATION_S:
        time.sleep(SWAP_EVERY_S)
        if swap is not None:
            swap()
            swaps += 1
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    calls = [c for o in per_thread for c in o]
    ms = np.array([c["ms"] for c in calls])
    return {"requests": len(calls), "failed": sum(not c["ok"] for c in calls), "swaps": swaps,
            "requests_per_s": round(len(calls) / elapsed, 1), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "versions_served": dict(Counter(str(c["version"]) for c in calls if c["ok"]))}  # fmt: skip


def run(results_dir: Path) -> dict[str, Any]:
    from shared.broker import free_port

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        registry = _registry(tmp)
        first = registry.champion_version("forecast")
        port = free_port()
        env = {"TANDEM_MODELS_DIR": str(registry.root), "TANDEM_FORECAST_MODELS_DIR": str(registry.root),
               "TANDEM_FORECAST_MODEL_WATCH_INTERVAL_S": str(WATCH_INTERVAL_S), "TANDEM_LOG_LEVEL": "WARNING",
               "TANDEM_FORECAST_DATABASE_URL": f"sqlite:///{tmp / 'forecast.db'}",
               "TANDEM_FORECAST_DATA_DIR": str(tmp), "TANDEM_KAFKA_BOOTSTRAP": "127.0.0.1:1",
               "TANDEM_FORECAST_CONSUMER_GROUP": f"hotswap-{uuid.uuid4().hex[:6]}",
               "TANDEM_FORECAST_CONSUMER_ENABLED": "false", "TANDEM_FORECAST_RETRAIN_EVERY_RESULTS": "0"}  # fmt: skip
        proc = start_uvicorn("services.forecast.app:build", port, env)
        try:
            url = f"http://127.0.0.1:{port}/v1/forecasts/predict"
            wait_http(f"http://127.0.0.1:{port}/health/live")
            baseline = _phase(url, None)
            flip = {"n": 0}

            def swap() -> None:  # promote the twin, then roll back, and so on
                if flip["n"] % 2 == 0:
                    registry.promote("forecast", _twin(registry, first))
                else:
                    registry.rollback("forecast")
                flip["n"] += 1

            swapping = _phase(url, swap)
        finally:
            stop(proc)
    result = {
        "setup": {"clients": CLIENTS, "duration_s": DURATION_S, "swap_every_s": SWAP_EVERY_S,
                  "watch_interval_s": WATCH_INTERVAL_S, "note": "one uvicorn worker; clients share the cores"},
        "baseline": baseline,
        "with_swaps": swapping,
        "dropped_or_failed": swapping["failed"],
        "throughput_ratio": round(swapping["requests_per_s"] / baseline["requests_per_s"], 3),
        "p99_ratio": round(swapping["p99_ms"] / baseline["p99_ms"], 3),
    }  # fmt: skip
    (results_dir / "hotswap.json").write_text(json.dumps(result, indent=2) + "\n")
    (results_dir / "hotswap.md").write_text(_markdown(result))
    return result


def _twin(registry: ModelRegistry, first: str) -> str:
    return next(c.version for c in registry.versions("forecast") if c.version != first)


def _markdown(r: dict[str, Any]) -> str:
    b, s = r["baseline"], r["with_swaps"]
    return (
        "# Hot swap under load\n\n"
        f"{r['setup']['clients']} clients, {r['setup']['duration_s']} s per phase, champion flipped every "
        f"{r['setup']['swap_every_s']} s ({s['swaps']} swaps).\n\n"
        "| phase | requests | failed | req/s | p50 ms | p99 ms | versions served |\n|---|---|---|---|---|---|---|\n"
        f"| baseline | {b['requests']} | {b['failed']} | {b['requests_per_s']} | {b['p50_ms']} | {b['p99_ms']} | {b['versions_served']} |\n"
        f"| with swaps | {s['requests']} | {s['failed']} | {s['requests_per_s']} | {s['p50_ms']} | {s['p99_ms']} | {s['versions_served']} |\n\n"
        f"Dropped or failed during swaps: **{r['dropped_or_failed']}**; throughput ratio {r['throughput_ratio']}, "
        f"p99 ratio {r['p99_ratio']}.\n"
    )
