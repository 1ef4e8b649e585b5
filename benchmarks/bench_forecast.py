"""Forecast service speed: single-request latency, batch rows/s and plan optimisation time, with baselines.

Run: `.venv/bin/python -m benchmarks forecast` (writes results/forecast.json and results/forecast.md).

- REST single: the real forecast service (`services.forecast.app:build`) and a trivial FastAPI GET, each in
  its own uvicorn process (1 worker, uvloop + httptools) on loopback, loaded by `wrk -t2 -c32` one after
  the other in the same run.
- Batch: 2,000-item bodies POSTed to `/v1/forecasts/predict/batch`, next to the in-process `forecast()`
  function and the ONNX heads alone on the same rows (the ceiling); and 50,000-row columnar bodies POSTed
  to `/v1/forecasts/predict/columns`, next to the heads alone on the same rows.
- Plan: 50 creators x 5 platforms x 4 weeks x 4 pieces of content (teaser -> launch -> review, plus a
  post), optimised in-process (median of repeats) and once over HTTP; target < 2 s.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson

from benchmarks.harness import REPO, ensure_wrk, start_uvicorn, stop, wait_http
from benchmarks.harness import wrk as run_wrk

DURATION_S = 10
CONNECTIONS = 32
BATCH_ITEMS = 2_000
BATCH_REPEATS = 5
COLUMN_ROWS = 50_000
PLAN_REPEATS = 5
PLATFORMS = ["instagram", "tiktok", "youtube", "vk", "telegram"]
SINGLE = {"followers": 80_000, "engagement_rate": 0.03, "platform": "instagram", "format": "reel",
          "market": "US", "market_share": 0.5}  # fmt: skip


def _batch_items(n: int) -> list[dict[str, Any]]:
    rng = random.Random(0)
    return [{**SINGLE, "followers": rng.randint(1_000, 2_000_000), "platform": rng.choice(PLATFORMS),
             "format": rng.choice(["post", "reel", "story", "long_video", "stream"]),
             "market": rng.choice(["US", "RU", "BR", "DE"]), "hour": rng.randint(0, 23)} for _ in range(n)]  # fmt: skip


def bench_batch(base: str) -> dict[str, Any]:
    """Rows/s through HTTP, next to forecast() in-process and the six ONNX heads alone on the same rows."""
    from services.forecast.features import feature_matrix
    from services.forecast.forecasting import forecast
    from services.forecast.planning import content_from_request
    from services.forecast.schemas import ForecastIn
    from shared.model_registry import ModelRegistry

    items = _batch_items(BATCH_ITEMS)
    body = orjson.dumps({"items": items})
    http = []
    with httpx.Client(timeout=120) as client:
        for _ in range(BATCH_REPEATS):
            start = time.perf_counter()
            r = client.post(f"{base}/v1/forecasts/predict/batch", content=body,
                            headers={"Content-Type": "application/json"})  # fmt: skip
            http.append(time.perf_counter() - start)
            assert r.status_code == 200 and len(r.json()) == BATCH_ITEMS, r.text[:300]
    model = ModelRegistry(REPO / "models").load_champion("forecast")
    contents = [content_from_request(ForecastIn.model_validate(i)) for i in items]
    x = feature_matrix(contents)
    in_process, onnx_only = [], []
    for _ in range(BATCH_REPEATS):
        start = time.perf_counter()
        forecast(model, contents)
        in_process.append(time.perf_counter() - start)
        start = time.perf_counter()
        for head in model.card.heads:
            model.run(head, x, count=False)
        onnx_only.append(time.perf_counter() - start)
    rate = {k: round(BATCH_ITEMS / float(np.median(v))) for k, v in
            {"http": http, "in_process": in_process, "onnx": onnx_only}.items()}  # fmt: skip
    return {
        "rows_per_request": BATCH_ITEMS,
        "http_rows_per_s": rate["http"],
        "in_process_forecast_rows_per_s": rate["in_process"],
        "onnx_heads_only_rows_per_s": rate["onnx"],
        "ratio_http_to_onnx_only": round(rate["http"] / rate["onnx"], 3),
    }


def bench_columns(base: str) -> dict[str, Any]:
    """Rows/s of the columnar path over HTTP, next to the ONNX heads alone on the same rows."""
    from services.forecast.bulk import score_columns
    from services.forecast.schemas import ForecastColumnsIn
    from shared.model_registry import ModelRegistry

    items = _batch_items(COLUMN_ROWS)
    columns = {k: [i[k] for i in items] for k in items[0]}
    body = orjson.dumps(columns)
    http = []
    with httpx.Client(timeout=120) as client:
        for _ in range(BATCH_REPEATS):
            start = time.perf_counter()
            r = client.post(f"{base}/v1/forecasts/predict/columns", content=body,
                            headers={"Content-Type": "application/json"})  # fmt: skip
            http.append(time.perf_counter() - start)
            assert r.status_code == 200 and orjson.loads(r.content)["rows"] == COLUMN_ROWS, r.text[:300]
    model = ModelRegistry(REPO / "models").load_champion("forecast")
    parsed = ForecastColumnsIn.model_validate(columns)
    in_process, onnx_only = [], []
    from services.forecast.features import feature_columns

    c = {k: np.asarray(v) for k, v in columns.items()}
    x = feature_columns(c["followers"], c["engagement_rate"], c["platform"], c["format"], c["market"],
                        c["market_share"], c["hour"], np.full(COLUMN_ROWS, 2), np.zeros(COLUMN_ROWS))  # fmt: skip
    for _ in range(BATCH_REPEATS):
        start = time.perf_counter()
        score_columns(model, parsed)
        in_process.append(time.perf_counter() - start)
        start = time.perf_counter()
        for head in model.card.heads:
            model.run(head, x, count=False)
        onnx_only.append(time.perf_counter() - start)
    rate = {k: round(COLUMN_ROWS / float(np.median(v))) for k, v in
            {"http": http, "in_process": in_process, "onnx": onnx_only}.items()}  # fmt: skip
    return {
        "rows_per_request": COLUMN_ROWS,
        "http_rows_per_s": rate["http"],
        "in_process_rows_per_s": rate["in_process"],
        "onnx_heads_only_rows_per_s": rate["onnx"],
        "ratio_http_to_onnx_only": round(rate["http"] / rate["onnx"], 3),
    }


def plan_request() -> dict[str, Any]:
    rng = random.Random(7)
    creators = [{"creator_id": f"c{i}", "market": rng.choice(["US", "RU", "BR", "DE"]), "market_share": 0.5,
                 "accounts": [{"platform": p, "followers": rng.randint(5_000, 800_000), "engagement_rate": 0.03,
                               "cost_per_post_usd": rng.randint(100, 2_000)} for p in PLATFORMS]}
                for i in range(50)]  # fmt: skip
    content = [{"content_id": "teaser", "format": "story"},
               {"content_id": "launch", "format": "reel", "after": ["teaser"], "not_before": "2026-12-08"},
               {"content_id": "review", "format": "long_video", "after": ["launch"]},
               {"content_id": "post", "format": "post"}]  # fmt: skip
    return {"window_start": "2026-12-01", "window_end": "2026-12-28", "budget_usd": 150_000,
            "max_posts_per_creator_per_week": 2, "min_spacing_days": 2, "content": content, "creators": creators}  # fmt: skip


def bench_plan(base: str) -> dict[str, Any]:
    from services.forecast.schemas import PlanIn
    from services.forecast.sequencing import plan
    from shared.model_registry import ModelRegistry

    body = plan_request()
    req = PlanIn.model_validate(body)
    model = ModelRegistry(REPO / "models").load_champion("forecast")
    times, out = [], None
    for _ in range(PLAN_REPEATS):
        start = time.perf_counter()
        out = plan(model, req)
        times.append(time.perf_counter() - start)
    assert out is not None
    start = time.perf_counter()
    r = httpx.post(f"{base}/v1/plans", json=body, timeout=60)
    http_s = time.perf_counter() - start
    assert r.status_code == 200, r.text[:300]
    return {
        "size": "50 creators x 5 platforms x 28 days x 4 pieces of content (budget, cap, spacing, order)",
        "in_process_median_s": round(float(np.median(times)), 4),
        "http_s": round(http_s, 4),
        "posts": len(out.posts),
        "objective_total": out.total,
        "naive_total": out.naive_total,
        "uplift_vs_naive": out.uplift_vs_naive,
        "target": "< 2 s",
    }


def run(results_dir: Path) -> dict[str, Any]:
    from shared.broker import LocalBroker, free_port

    binary = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        broker = LocalBroker(log_path=tmp / "broker.log").start()
        procs: list[subprocess.Popen[bytes]] = []
        try:
            port, trivial_port = free_port(), free_port()
            env = {"TANDEM_KAFKA_BOOTSTRAP": broker.bootstrap, "TANDEM_LOG_LEVEL": "WARNING",
                   "TANDEM_FORECAST_DATABASE_URL": f"sqlite:///{tmp / 'forecast.db'}",
                   "TANDEM_FORECAST_CONSUMER_GROUP": f"forecast-bench-{uuid.uuid4().hex[:6]}",
                   # as deployed: forecast-api serves HTTP with its consumer off (deploy/k8s/forecast.yaml)
                   "TANDEM_FORECAST_CONSUMER_ENABLED": "false"}  # fmt: skip
            procs = [start_uvicorn("services.forecast.app:build", port, env),
                     start_uvicorn("benchmarks.harness:trivial_app", trivial_port, {})]  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/health/ready")
            wait_http(f"http://127.0.0.1:{trivial_port}/ping")
            trivial = run_wrk(binary, f"http://127.0.0.1:{trivial_port}/ping", tmp, CONNECTIONS, DURATION_S)
            live = run_wrk(binary, f"{base}/health/live", tmp, CONNECTIONS, DURATION_S)
            single = run_wrk(binary, f"{base}/v1/forecasts/predict", tmp, CONNECTIONS, DURATION_S, SINGLE)
            batch = bench_batch(base)
            columns = bench_columns(base)
            plan_result = bench_plan(base)
        finally:
            for proc in procs:
                stop(proc)
            broker.stop()
    result = {
        "machine": {"cpus": os.cpu_count(), "note": "load generator and servers share the cores"},
        "rest_single_forecast": {
            "trivial_get": trivial,
            "forecast_predict": single,
            "ratio_to_trivial": round(single["requests_per_s"] / trivial["requests_per_s"], 3),
            # The service's own GET /health/live: the same middleware and background threads, no work.
            "service_health_live": live,
            "ratio_to_service_health_live": round(single["requests_per_s"] / live["requests_per_s"], 3),
        },
        "batch": batch,
        "columns": columns,
        "plan": plan_result,
    }
    (results_dir / "forecast.json").write_text(json.dumps(result, indent=2) + "\n")
    (results_dir / "forecast.md").write_text(_markdown(result))
    return result


def _markdown(r: dict[str, Any]) -> str:
    s, b, c, p = r["rest_single_forecast"], r["batch"], r["columns"], r["plan"]
    t, f = s["trivial_get"], s["forecast_predict"]
    return "\n".join([
        "# Forecast service benchmark (`python -m benchmarks forecast`)", "",
        f"{r['machine']['cpus']} CPUs; wrk, the servers and the broker share them.", "",
        "| what | figure | baseline in the same run | ratio |",
        "| --- | --- | --- | --- |",
        f"| POST /v1/forecasts/predict (6 ONNX heads), wrk -c{CONNECTIONS}, 1 worker | {f['requests_per_s']:,.0f} req/s, "
        f"p50 {f['p50_ms']:.2f} ms, p99 {f['p99_ms']:.2f} ms | trivial GET {t['requests_per_s']:,.0f} req/s, "
        f"p99 {t['p99_ms']:.2f} ms | {s['ratio_to_trivial']} |",
        f"| same, vs the service's own GET /health/live (same middleware, no work) | | "
        f"{s['service_health_live']['requests_per_s']:,.0f} req/s | {s['ratio_to_service_health_live']} |",
        f"| batch, {b['rows_per_request']:,} rows per request | {b['http_rows_per_s']:,} rows/s | ONNX heads alone "
        f"{b['onnx_heads_only_rows_per_s']:,} rows/s; forecast() in-process {b['in_process_forecast_rows_per_s']:,} rows/s "
        f"| {b['ratio_http_to_onnx_only']} |",
        f"| columnar bulk, {c['rows_per_request']:,} rows per request | {c['http_rows_per_s']:,} rows/s | ONNX heads alone "
        f"{c['onnx_heads_only_rows_per_s']:,} rows/s; in-process {c['in_process_rows_per_s']:,} rows/s "
        f"| {c['ratio_http_to_onnx_only']} |",
        f"| plan: {p['size']} | {p['in_process_median_s']} s in-process, {p['http_s']} s over HTTP | target 2 s "
        f"| {round(p['in_process_median_s'] / 2, 3)} |",
        f"| plan objective (forecast reach) | {p['objective_total']:,.0f} | naive plan {p['naive_total']:,.0f} "
        f"| uplift {p['uplift_vs_naive']} |", "",
    ])  # fmt: skip
