"""Fraud service speed: single-creator REST, columnar bulk, stream scoring; each next to a baseline.

Run: `.venv/bin/python -m benchmarks fraud` (writes results/fraud.json and results/fraud.md).

- REST: the real fraud service (`services.fraud.app:build`) and a trivial FastAPI GET, each in its own
  uvicorn process (1 worker, uvloop + httptools) on loopback, loaded by `wrk -t2 -c32` one after the
  other in the same run. wrk is a separate native process, so the load generator costs far less CPU
  than a Python client would (performance.md: httpx tops out near 1k req/s).
- Bulk: 100k-row columnar bodies POSTed to `/v1/fraud/score/columns`, next to the ONNX model alone on
  the same rows (the ceiling).
- Stream: CreatorUpserted events produced to the broker; the same service process consumes them and
  publishes FraudScored; events/s out, next to a bare kafka-python consumer reading the same events.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import psycopg

from benchmarks.harness import REPO, ensure_wrk, start_uvicorn, stop, wait_http
from benchmarks.harness import wrk as run_wrk
from shared.broker import free_port

ADMIN_URL = os.environ.get(
    "TANDEM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
).replace("postgresql+psycopg://", "postgresql://")

DURATION_S = 5
ROUNDS = 3
CONNECTIONS = 32
BULK_ROWS = 100_000
BULK_REPEATS = 5
STREAM_EVENTS = 30_000
ACCOUNT = {
    "platform": "instagram", "handle": "bench", "followers": 20_000, "following": 400, "posts": 300,
    "engagement_rate": 0.018, "avg_likes": 350, "avg_comments": 10, "max_monthly_growth": 0.03,
    "median_monthly_growth": 0.02,
}  # fmt: skip


def _median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.median([r[k] for r in runs])), 2) for k in runs[0]}


def bench_rest(binary: str, trivial: str, base: str, tmp: Path) -> dict[str, Any]:
    """Interleaved rounds (trivial, service health, score) so a busy moment hits all three alike."""
    runs: dict[str, list[dict[str, float]]] = {
        "trivial_get": [],
        "service_health_live": [],
        "fraud_score": [],
    }
    for _ in range(ROUNDS):
        runs["trivial_get"].append(run_wrk(binary, f"{trivial}/ping", tmp, CONNECTIONS, DURATION_S))
        # The service's own GET /health/live: the same middleware and background threads, no work.
        runs["service_health_live"].append(
            run_wrk(binary, f"{base}/health/live", tmp, CONNECTIONS, DURATION_S)
        )
        body = {"creator_id": "c1", "account": ACCOUNT}
        runs["fraud_score"].append(
            run_wrk(binary, f"{base}/v1/fraud/score", tmp, CONNECTIONS, DURATION_S, body)
        )
    med = {name: _median_run(r) for name, r in runs.items()}
    per_round = [
        round(s["requests_per_s"] / t["requests_per_s"], 3)
        for s, t in zip(runs["fraud_score"], runs["trivial_get"], strict=True)
    ]
    return {
        **med,
        "rounds": ROUNDS,
        "seconds_per_run": DURATION_S,
        "ratio_to_trivial": round(
            med["fraud_score"]["requests_per_s"] / med["trivial_get"]["requests_per_s"], 3
        ),
        "ratio_to_trivial_per_round": per_round,
        "ratio_to_service_health_live": round(
            med["fraud_score"]["requests_per_s"] / med["service_health_live"]["requests_per_s"], 3
        ),
    }


def _bulk_columns(n: int, seed: int = 0) -> dict[str, list[Any]]:
    rng = np.random.default_rng(seed)
    return {
        "platform": rng.choice(["instagram", "tiktok", "youtube", "vk", "telegram"], n).tolist(),
        "followers": rng.integers(1000, 2_000_000, n).tolist(),
        "following": rng.integers(0, 5000, n).tolist(),
        "posts": rng.integers(0, 3000, n).tolist(),
        "engagement_rate": np.round(rng.uniform(0.001, 0.1, n), 5).tolist(),
        "avg_likes": np.round(rng.uniform(0, 10_000, n), 1).tolist(),
        "avg_comments": np.round(rng.uniform(0, 300, n), 1).tolist(),
        "max_monthly_growth": np.round(rng.uniform(0, 0.8, n), 4).tolist(),
        "median_monthly_growth": np.round(rng.uniform(0, 0.05, n), 4).tolist(),
    }


def bench_bulk(base: str) -> dict[str, float]:
    """Rows/s through HTTP (JSON both ways) next to the ONNX model alone on the same rows."""
    from services.fraud import bulk
    from shared.model_registry import ModelRegistry

    body = orjson.dumps({"columns": _bulk_columns(BULK_ROWS)})
    times = []
    with httpx.Client(timeout=120) as client:
        for _ in range(BULK_REPEATS):
            start = time.perf_counter()
            r = client.post(
                f"{base}/v1/fraud/score/columns", content=body, headers={"Content-Type": "application/json"}
            )
            times.append(time.perf_counter() - start)
            assert r.status_code == 200 and orjson.loads(r.content)["scored"] == BULK_ROWS, r.text[:300]
    model = ModelRegistry(REPO / "models").load_champion("fraud_risk")
    x = bulk.features(bulk.parse(body))
    model_times = []
    for _ in range(BULK_REPEATS):
        start = time.perf_counter()
        model.run("model", x, count=False)
        model_times.append(time.perf_counter() - start)
    http_rate = BULK_ROWS / float(np.median(times))
    model_rate = BULK_ROWS / float(np.median(model_times))
    return {
        "rows_per_request": BULK_ROWS,
        "http_rows_per_s": round(http_rate),
        "onnx_model_only_rows_per_s": round(model_rate),
        "ratio_to_model_only": round(http_rate / model_rate, 3),
    }


def _produce(bootstrap: str, n: int, run_id: str) -> None:
    from kafka import KafkaProducer

    from shared import topics
    from shared.bus.outbox import envelope_headers
    from shared.events import CreatorUpserted, utcnow, wrap

    producer = KafkaProducer(
        bootstrap_servers=[bootstrap], linger_ms=5, batch_size=256 * 1024, compression_type="lz4", acks="all"
    )
    now = utcnow()
    for i in range(n):
        account = {**ACCOUNT, "handle": f"b{i}", "followers": 5_000 + 37 * i}
        event = CreatorUpserted.model_validate(
            {"creator_id": f"{run_id}-{i}", "name": f"bench {i}", "home_market": "US", "languages": ["en"],
             "categories": ["tech"], "accounts": [account], "audience": [], "updated_at": now}
        )  # fmt: skip
        env = wrap(event, producer="discovery", correlation_id=run_id, org_id="bench")  # the topic's owner
        headers = [(k, v.encode()) for k, v in envelope_headers(env).items()]  # as every service sends them
        producer.send(
            topics.CATALOG_CREATORS, key=event.key().encode(), value=env.to_bytes(), headers=headers
        )
    producer.flush()
    producer.close()


def _group_at_end(bootstrap: str, topic: str) -> str:
    """A new consumer group whose committed offsets are the current end of `topic`: it reads only what
    is produced after this, not the backlogs of earlier runs on the same broker."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    group = f"bench-{uuid.uuid4().hex[:8]}"
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], group_id=group, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(parts)
        consumer.seek_to_end(*parts)
        consumer.commit({tp: OffsetAndMetadata(consumer.position(tp), "", -1) for tp in parts})
    finally:
        consumer.close()
    return group


def _consume_rate(
    bootstrap: str, topic: str, group: str, n: int, match: bytes, timeout_s: float = 300
) -> float:
    """Records/s between the first and the n-th matching record `group` reads from `topic`."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=[bootstrap],
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        max_poll_records=2000,
    )
    seen, first, last = 0, 0.0, 0.0
    deadline = time.monotonic() + timeout_s
    try:
        while seen < n and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    if match in (record.value or b""):
                        seen += 1
                        first = first or time.perf_counter()
                        last = time.perf_counter()
    finally:
        consumer.close()
    return (seen - 1) / (last - first) if seen > 1 and last > first else 0.0


def _publish_rate(bootstrap: str, n: int, run_id: str) -> float:
    """FraudScored events/s out of the service: broker timestamps of the first and the n-th score."""
    from kafka import KafkaConsumer

    from shared import topics

    consumer = KafkaConsumer(
        topics.FRAUD_SCORES,
        bootstrap_servers=[bootstrap],
        group_id=f"bench-out-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
    )
    stamps: list[int] = []
    deadline = time.monotonic() + 600
    try:
        while len(stamps) < n and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                stamps += [r.timestamp for r in records if run_id.encode() in (r.value or b"")]
    finally:
        consumer.close()
    if len(stamps) < 2:
        return 0.0
    return (len(stamps) - 1) / max((max(stamps) - min(stamps)) / 1000, 1e-3)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _applied(db_url: str) -> int:
    """CreatorUpserted events the service's consumer has applied (its processed-event ledger)."""
    query = "SELECT count(*) FROM processed_event WHERE event_type = 'creator.upserted'"
    try:
        if db_url.startswith("sqlite"):
            with sqlite3.connect(f"file:{db_url.split(':///', 1)[1]}?mode=ro", uri=True, timeout=30) as conn:
                return int(conn.execute(query).fetchone()[0])
        with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            row = conn.execute(query).fetchone()
            return int(row[0]) if row else 0
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable, psycopg.OperationalError):
        return 0  # the service has not created its tables yet


def _drain(pid: int, db_url: str, n: int, timeout_s: float = 600) -> dict[str, float]:
    """Events/s the consumer applied, first to n-th, and the process's CPU per event meanwhile."""
    first = last = cpu_first = cpu_last = 0.0
    first_count = 0
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        count, now = _applied(db_url), time.perf_counter()
        if count and not first:
            first, first_count, cpu_first = now, count, _cpu_seconds(pid)
        if count >= n:
            last, cpu_last = now, _cpu_seconds(pid)
            break
        time.sleep(0.05)
    events = n - first_count
    if not last > first or events <= 0:
        return {"applied_events_per_s": 0.0, "cpu_us_per_event": 0.0}
    return {"applied_events_per_s": events / (last - first),
            "cpu_us_per_event": (cpu_last - cpu_first) / events * 1e6}  # fmt: skip


def bench_stream(bootstrap: str, db_url: str, tmp: Path, events: int = STREAM_EVENTS) -> dict[str, Any]:
    """A backlog of `events` CreatorUpserted first, then a fresh fraud process (its own group and
    database) drains it: so the producer's speed cannot cap the figure, and the process is alone on it."""
    from shared import topics

    run_id = uuid.uuid4().hex[:8]
    raw_group, fraud_group = (_group_at_end(bootstrap, topics.CATALOG_CREATORS) for _ in range(2))
    start = time.perf_counter()
    _produce(bootstrap, events, run_id)
    produce_s = time.perf_counter() - start
    raw = _consume_rate(bootstrap, topics.CATALOG_CREATORS, raw_group, events, run_id.encode())
    env = {**_service_env(tmp, bootstrap, db_url), "TANDEM_FRAUD_CONSUMER_GROUP": fraud_group}
    fraud = start_uvicorn("services.fraud.app:build", free_port(), env)
    try:
        drained = _drain(fraud.pid, db_url, events)
        scored = _publish_rate(bootstrap, events, run_id)
    finally:
        stop(fraud)
    applied = drained["applied_events_per_s"]
    return {
        "database": db_url.split(":", 1)[0].split("+", 1)[0],
        "events": events,
        "produce_events_per_s": round(events / produce_s),
        "raw_consume_events_per_s": round(raw),
        "fraud_consumed_and_stored_events_per_s": round(applied),
        "fraud_scored_published_events_per_s": round(scored),
        "fraud_process_cpu_us_per_event": round(drained["cpu_us_per_event"], 1),
        "ratio_in_to_raw_consume": round(applied / raw, 3) if raw else 0.0,
        "ratio_out_to_raw_consume": round(scored / raw, 3) if raw else 0.0,
    }


def _service_env(tmp: Path, bootstrap: str, db_url: str) -> dict[str, str]:
    return {
        "TANDEM_KAFKA_BOOTSTRAP": bootstrap,
        "TANDEM_FRAUD_DATABASE_URL": db_url,
        "TANDEM_FRAUD_CONSUMER_GROUP": f"fraud-bench-{uuid.uuid4().hex[:6]}",
        "TANDEM_LOG_LEVEL": "WARNING",
        "TANDEM_DATA_DIR": str(tmp),  # identity.db and friends too: nothing shared with other runs
    }


def _servers(tmp: Path, bootstrap: str) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], int, int]:
    fraud_port, trivial_port = free_port(), free_port()
    fraud = start_uvicorn(
        "services.fraud.app:build", fraud_port, _service_env(tmp, bootstrap, f"sqlite:///{tmp / 'fraud.db'}")
    )
    trivial = start_uvicorn("benchmarks.harness:trivial_app", trivial_port, {})
    wait_http(f"http://127.0.0.1:{fraud_port}/health/ready", timeout_s=120)
    wait_http(f"http://127.0.0.1:{trivial_port}/ping")
    return fraud, trivial, fraud_port, trivial_port


@contextmanager
def _postgres_database() -> Iterator[str | None]:
    """A scratch database on the local PostgreSQL (None when there is none), dropped afterwards."""
    name = f"tandem_bench_fraud_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        yield None
        return
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{ADMIN_URL.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://')}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(results_dir: Path) -> dict[str, Any]:
    from shared.broker import LocalBroker

    binary = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        broker = LocalBroker(log_path=tmp / "broker.log").start()
        servers: tuple[subprocess.Popen[bytes], ...] = ()
        try:
            fraud, trivial, fraud_port, trivial_port = _servers(tmp, broker.bootstrap)
            servers = (fraud, trivial)
            base = f"http://127.0.0.1:{fraud_port}"
            rest = bench_rest(binary, f"http://127.0.0.1:{trivial_port}", base, tmp)
            bulk_result = bench_bulk(base)
            for proc in servers:
                stop(proc)  # the stream runs get the machine to themselves
            servers = ()
            streams = [bench_stream(broker.bootstrap, f"sqlite:///{tmp / 'stream.db'}", tmp)]
            with _postgres_database() as pg_url:
                if pg_url is not None:
                    streams.append(bench_stream(broker.bootstrap, pg_url, tmp))
        finally:
            for proc in servers:
                stop(proc)
            broker.stop()
    result = {
        "machine": {"cpus": os.cpu_count(), "note": "load generator and servers share the cores"},
        "rest_single_creator": {**rest, "target": "ratio >= 0.6, p99 < 10 ms"},
        "bulk_columnar": {**bulk_result, "target": ">= 100k rows/s per worker"},
        "stream": streams,
        "stream_target": ">= 10k events/s per consumer process",
    }
    (results_dir / "fraud.json").write_text(json.dumps(result, indent=2) + "\n")
    (results_dir / "fraud.md").write_text(_markdown(result))
    return result


def _stream_rows(stream: dict[str, Any]) -> list[str]:
    db, raw = stream["database"], stream["raw_consume_events_per_s"]
    return [
        f"| stream in ({db}): a {stream['events']:,}-event backlog of CreatorUpserted drained by a fresh "
        f"process: consumed, scored, stored, published, 1 consumer | {stream['fraud_consumed_and_stored_events_per_s']:,} events/s, "
        f"{stream['fraud_process_cpu_us_per_event']} us CPU per event (all threads) "
        f"| raw kafka-python consume {raw:,} events/s | {stream['ratio_in_to_raw_consume']} |",
        f"| stream out ({db}): FraudScored on the broker (published by the same process before each poll commits) | "
        f"{stream['fraud_scored_published_events_per_s']:,} events/s "
        f"| raw kafka-python consume {raw:,} events/s | {stream['ratio_out_to_raw_consume']} |",
    ]


def _markdown(r: dict[str, Any]) -> str:
    rest, bulk_r = r["rest_single_creator"], r["bulk_columnar"]
    t, f = rest["trivial_get"], rest["fraud_score"]
    return "\n".join(
        [
            "# Fraud service benchmark (`python -m benchmarks fraud`)",
            "",
            f"{r['machine']['cpus']} CPUs; wrk, the servers and the broker share them.",
            f"The fraud service's own GET /health/live (same middleware and threads, no work): "
            f"{rest['service_health_live']['requests_per_s']:,.0f} req/s; scoring is "
            f"{rest['ratio_to_service_health_live']} of it.",
            "",
            "| what | figure | baseline in the same run | ratio |",
            "| --- | --- | --- | --- |",
            f"| REST POST /v1/fraud/score, wrk -c{CONNECTIONS}, 1 worker (median of {rest['rounds']} interleaved runs) | {f['requests_per_s']:,.0f} req/s, p50 {f['p50_ms']:.2f} ms, p99 {f['p99_ms']:.2f} ms "
            f"| trivial GET {t['requests_per_s']:,.0f} req/s, p99 {t['p99_ms']:.2f} ms | {rest['ratio_to_trivial']} |",
            f"| bulk columnar, {bulk_r['rows_per_request']:,} rows per request | {bulk_r['http_rows_per_s']:,} rows/s "
            f"| ONNX model alone {bulk_r['onnx_model_only_rows_per_s']:,} rows/s | {bulk_r['ratio_to_model_only']} |",
            *[row for stream in r["stream"] for row in _stream_rows(stream)],
            "",
        ]
    )
