"""The event flow on both brokers in one run: Apache Kafka 4.x and tansu, each next to kafka-python alone.

Run: `.venv/bin/python -m benchmarks brokers` (writes results/brokers.json and results/brokers.md).

On each broker, one after the other:
- fraud stream: a backlog of CreatorUpserted drained by a fresh fraud process on PostgreSQL (consumed,
  scored, stored, FraudScored published before each poll commits), as `bench_fraud.bench_stream`
  measures it: events/s in and out, next to a bare kafka-python consumer reading the same backlog;
- discovery ingest: bulk bodies of 5,000 creators through `bulk.ingest_json` (validation, COPY upsert,
  outbox rows in the same transaction), then the outbox relay publishing them to the broker; creators/s
  stored, events/s relayed, next to a bare kafka-python producer sending the same bytes and a bare
  consumer reading them back.
Sizes: TANDEM_BENCH_BROKER_EVENTS (stream, default 20000), TANDEM_BENCH_BROKER_CREATORS (ingest, default
20000), TANDEM_BENCH_BROKER_ROUNDS (default 3, alternating between the brokers; medians reported).
Figures are ratios against the baselines measured on the same broker in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.bench_discovery import BATCH, ORG, Generator
from benchmarks.bench_fraud import _consume_rate, _group_at_end, _postgres_database, bench_stream
from shared import topics
from shared.broker import BrokerKind, make_broker
from shared.bus.outbox import Outbox, publish_pending
from shared.bus.producer import BusProducer
from shared.db import Database, migrate
from shared.settings import REPO_ROOT

STREAM_EVENTS = int(os.environ.get("TANDEM_BENCH_BROKER_EVENTS", "20000"))
CREATORS = int(os.environ.get("TANDEM_BENCH_BROKER_CREATORS", "20000"))
ROUNDS = int(os.environ.get("TANDEM_BENCH_BROKER_ROUNDS", "3"))
KINDS: tuple[BrokerKind, ...] = ("kafka", "tansu")
TARGET = ">= 10k events/s per consumer process"


def _raw_produce_rate(bootstrap: str, values: list[tuple[bytes, bytes]]) -> float:
    """A bare kafka-python producer with the service's settings, sending the relay's bytes again."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=[bootstrap], acks="all", linger_ms=100, batch_size=512 * 1024,
                             compression_type="lz4")  # fmt: skip
    producer.partitions_for(topics.CATALOG_CREATORS)  # connected and metadata loaded before the clock starts
    start = time.perf_counter()
    for key, value in values:
        producer.send(topics.CATALOG_CREATORS, key=key, value=value)
    producer.flush()
    rate = len(values) / (time.perf_counter() - start)
    producer.close()
    return rate


def _outbox_values(db: Database) -> list[tuple[bytes, bytes]]:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT key, value FROM outbox_message ORDER BY id").all()
    return [(str(k).encode(), bytes(v)) for k, v in rows]


def bench_ingest(bootstrap: str, db_url: str) -> dict[str, Any]:
    """Bulk ingest into PostgreSQL, then the relay to the broker, then the same bytes by kafka-python."""
    migrate(db_url, REPO_ROOT / "services" / "discovery" / "migrations")
    db = Database(db_url)
    gen = Generator()
    bodies = [
        orjson.dumps({"creators": gen.batch(s, min(BATCH, CREATORS - s))}) for s in range(0, CREATORS, BATCH)
    ]
    from services.discovery import bulk

    outbox = Outbox("discovery")
    start = time.perf_counter()
    for body in bodies:
        bulk.ingest_json(db, ORG, body, outbox)
    ingest_s = time.perf_counter() - start
    producer = BusProducer(bootstrap, "discovery-bench")
    read_group = _group_at_end(bootstrap, topics.CATALOG_CREATORS)
    start = time.perf_counter()
    relayed = 0
    while batch := publish_pending(db, producer, "discovery", limit=5000):
        relayed += batch
    relay_s = time.perf_counter() - start
    producer.close()
    values = _outbox_values(db)
    marker = b'"producer":"discovery"'
    raw_consume = _consume_rate(bootstrap, topics.CATALOG_CREATORS, read_group, relayed, marker)
    raw_produce = _raw_produce_rate(bootstrap, values)
    db.close()
    relay_rate = relayed / relay_s
    return {
        "creators": CREATORS,
        "events_relayed": relayed,
        "ingest_creators_per_s": round(CREATORS / ingest_s),
        "relay_events_per_s": round(relay_rate),
        "ingest_then_relay_creators_per_s": round(CREATORS / (ingest_s + relay_s)),
        "raw_produce_events_per_s": round(raw_produce),
        "raw_consume_events_per_s": round(raw_consume),
        "ratio_relay_to_raw_produce": round(relay_rate / raw_produce, 3) if raw_produce else 0.0,
    }


def one_round(kind: BrokerKind, bootstrap: str, tmp: Path) -> dict[str, Any]:
    with _postgres_database() as stream_url:
        if stream_url is None:
            raise RuntimeError("the broker benchmark needs PostgreSQL (TANDEM_TEST_DATABASE_URL)")
        stream = bench_stream(bootstrap, stream_url, tmp, events=STREAM_EVENTS)
    with _postgres_database() as ingest_url:
        assert ingest_url is not None
        ingest = bench_ingest(bootstrap, ingest_url)
    return {"broker": kind, "load_average": round(os.getloadavg()[0], 2), "fraud_stream": stream,
            "discovery_ingest": ingest}  # fmt: skip


def _median_of(rounds: list[dict[str, Any]], part: str) -> dict[str, Any]:
    first = rounds[0][part]
    return {
        key: (
            round(statistics.median(r[part][key] for r in rounds), 3)
            if isinstance(value, int | float)
            else value
        )
        for key, value in first.items()
    }


def run(results_dir: Path) -> dict[str, Any]:
    """Both brokers up at once; rounds alternate between them, so a busy spell on the shared machine
    falls on both alike; the tables give each figure's median over the rounds."""
    load_start = os.getloadavg()
    rounds: list[dict[str, Any]] = []
    starts: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        brokers = {kind: make_broker(kind, log_path=tmp / f"{kind}.log") for kind in KINDS}
        try:
            for kind, broker in brokers.items():
                started = time.perf_counter()
                broker.start()
                starts[kind] = round(time.perf_counter() - started, 1)
            for _ in range(ROUNDS):
                rounds += [one_round(kind, broker.bootstrap, tmp) for kind, broker in brokers.items()]
        finally:
            for broker in brokers.values():
                broker.close()
    summary = []
    for kind in KINDS:
        mine = [r for r in rounds if r["broker"] == kind]
        summary.append({"broker": kind, "start_s": starts[kind], "fraud_stream": _median_of(mine, "fraud_stream"),
                        "discovery_ingest": _median_of(mine, "discovery_ingest")})  # fmt: skip
    by = {b["broker"]: b for b in summary}
    kafka, tansu = by["kafka"], by["tansu"]
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load_start],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "note": "a 1-minute load average above ~1 means other work shared the two cores; compare the "
            "ratios to the baselines measured on the same broker in the same run",
        },
        "sizes": {"stream_events": STREAM_EVENTS, "ingest_creators": CREATORS, "rounds": ROUNDS},
        "brokers": summary,
        "kafka_over_tansu": {
            "fraud_in": _ratio(kafka, tansu, "fraud_stream", "fraud_consumed_and_stored_events_per_s"),
            "fraud_out": _ratio(kafka, tansu, "fraud_stream", "fraud_scored_published_events_per_s"),
            "raw_consume": _ratio(kafka, tansu, "fraud_stream", "raw_consume_events_per_s"),
            "discovery_relay": _ratio(kafka, tansu, "discovery_ingest", "relay_events_per_s"),
        },
        "target": TARGET,
        "rounds": rounds,
    }
    (results_dir / "brokers.json").write_text(json.dumps(result, indent=2) + "\n")
    (results_dir / "brokers.md").write_text(_markdown(result))
    return result


def _ratio(a: dict[str, Any], b: dict[str, Any], part: str, key: str) -> float:
    return round(a[part][key] / b[part][key], 3) if b[part][key] else 0.0


def _markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        "# The event flow on Apache Kafka and on tansu (`python -m benchmarks brokers`)",
        "",
        f"{m['cpus']} CPUs, 1-minute load average {m['load_average_at_start'][0]} at the start and "
        f"{m['load_average_at_end'][0]} at the end (above ~1, other work shared the cores and absolute "
        "figures are depressed); each figure is also given as a ratio to kafka-python alone on the same broker, "
        f"measured in the same run. Medians of {r['sizes']['rounds']} rounds per broker, alternating between "
        f"them. Stream backlog {r['sizes']['stream_events']:,} events; ingest "
        f"{r['sizes']['ingest_creators']:,} creators; PostgreSQL; target {r['target']}.",
        "",
        "| broker | what | figure | baseline (same broker, same run) | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for b in r["brokers"]:
        s, i, name = b["fraud_stream"], b["discovery_ingest"], b["broker"]
        raw = s["raw_consume_events_per_s"]
        lines += [
            f"| {name} | fraud stream in: consumed, scored, stored, 1 consumer process | "
            f"{s['fraud_consumed_and_stored_events_per_s']:,.0f} events/s ({s['fraud_process_cpu_us_per_event']} us CPU/event: "
            f"{1e6 / s['fraud_process_cpu_us_per_event']:,.0f} events/s per core of its own) "
            f"| raw kafka-python consume {raw:,.0f} events/s | {s['ratio_in_to_raw_consume']} |",
            f"| {name} | fraud stream out: FraudScored published | {s['fraud_scored_published_events_per_s']:,.0f} events/s "
            f"| raw kafka-python consume {raw:,.0f} events/s | {s['ratio_out_to_raw_consume']} |",
            f"| {name} | discovery ingest: bulk bodies stored with outbox rows | {i['ingest_creators_per_s']:,.0f} creators/s "
            f"| (database only) | |",
            f"| {name} | discovery outbox relay to the broker | {i['relay_events_per_s']:,.0f} events/s "
            f"| raw kafka-python produce {i['raw_produce_events_per_s']:,.0f} events/s (consume {i['raw_consume_events_per_s']:,.0f}) "
            f"| {i['ratio_relay_to_raw_produce']} |",
        ]
    k = r["kafka_over_tansu"]
    lines += [
        "",
        f"Apache Kafka over tansu, same run: fraud in {k['fraud_in']}, fraud out {k['fraud_out']}, raw consume "
        f"{k['raw_consume']}, discovery relay {k['discovery_relay']}. Broker start-up: "
        + ", ".join(f"{b['broker']} {b['start_s']} s" for b in r["brokers"])
        + ".",
        "",
        "Rounds in the order they ran (broker: fraud in events/s, relay events/s, load average after): "
        + "; ".join(
            f"{x['broker']}: {x['fraud_stream']['fraud_consumed_and_stored_events_per_s']:,}, "
            f"{x['discovery_ingest']['relay_events_per_s']:,}, {x['load_average']}"
            for x in r["rounds"]
        )
        + ".",
        "",
    ]
    return "\n".join(lines)
