"""Discovery's bulk ingest on SQLite, the zero-setup default, the way `make run` runs it.

`python -m benchmarks discovery_sqlite` starts tansu and one discovery process (`tandem serve
discovery`, its SQLite file in a temporary directory, outbox relay and consumer running), then posts the
catalogue (the generated one of bench_discovery, TANDEM_BENCH_DISCOVERY_SQLITE_SIZE creators, default
100k) to POST /v1/creators/bulk in bodies of 5,000 from two client threads. After each accepted body it
publishes a FraudScored per creator as fraud would (producer "fraud"), so discovery's consumer writes to
the same file while ingest goes on, as the relay does with the CreatorUpserted events.

Measured: creators/s over the whole ingest; the process's RSS before the first timed body (after a
warm-up body) and its peak (VmHWM) up to the end of the drain; "database is locked" lines in its log and
non-200 answers; how long until every event is relayed and every score applied. Baseline in the same run:
the ORM upsert (catalog.upsert_creators, what bulk ingest on SQLite ran before) on 2,000 creators, in
process (no HTTP), so the ratio is the speed-up on this machine under its load now.
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks.bench_discovery import Generator
from services.discovery import catalog
from services.discovery.schemas import CreatorIn
from shared.broker import LocalBroker
from shared.bus.outbox import Outbox, envelope_headers
from shared.bus.producer import BusProducer
from shared.db import Database, migrate
from shared.events import FraudScored, wrap
from shared.settings import REPO_ROOT
from tandem.supervisor import Suite

SIZE = int(os.environ.get("TANDEM_BENCH_DISCOVERY_SQLITE_SIZE", "100000"))
BATCH = 5000
WRITERS = 2
ORG = "bench"
ORM_BASELINE = 2000
TARGETS = {"ingest_per_s": 2000, "rss_growth_mb": 200, "database_locked": 0}
LOCKED = "database is locked"


def status_kb(pid: int, field: str) -> int:
    """A /proc/<pid>/status figure in kB (VmRSS now, VmHWM the peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class ScoreFeeder:
    """Publishes what fraud would after scoring each creator: one FraudScored on fraud.scores.v1."""

    def __init__(self, bootstrap: str) -> None:
        self.producer = BusProducer(bootstrap, "bench-fraud")

    def scored(self, ids: list[str]) -> None:
        now = datetime.now(UTC)
        for cid in ids:
            event = FraudScored(creator_id=cid, risk=0.1, level="low", reasons=[], model_name="fraud_risk",
                                model_version="bench", scored_at=now)  # fmt: skip
            envelope = wrap(event, producer="fraud", correlation_id="bench", org_id=ORG)
            self.producer.send(event.topic, cid, envelope.to_bytes(), envelope_headers(envelope))
        self.producer.flush(timeout=60)

    def close(self) -> None:
        self.producer.close()


def bodies(size: int) -> list[tuple[bytes, list[str]]]:
    gen = Generator()
    out = []
    for start in range(0, size, BATCH):
        creators = gen.batch(start, min(BATCH, size - start))
        out.append((orjson.dumps({"creators": creators}), [c["creator_id"] for c in creators]))
    return out


def post_all(url: str, work: list[tuple[bytes, list[str]]], feeder: ScoreFeeder) -> dict[str, Any]:
    """Every body from WRITERS threads; the answers' status codes counted."""
    todo: queue.Queue[tuple[bytes, list[str]]] = queue.Queue()
    for item in work:
        todo.put(item)
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def writer() -> None:
        with httpx.Client(base_url=url, headers={"X-Org-Id": ORG}, timeout=600) as client:
            while True:
                try:
                    body, ids = todo.get_nowait()
                except queue.Empty:
                    return
                r = client.post(
                    "/v1/creators/bulk", content=body, headers={"Content-Type": "application/json"}
                )
                with lock:
                    statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1
                if r.status_code == 200:
                    feeder.scored(ids)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"seconds": time.perf_counter() - start, "statuses": statuses}


def backlog(db_path: Path) -> tuple[int, int]:
    """(outbox rows not yet relayed, creators without a fraud score), read beside the service."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=60) as conn:
        unsent = conn.execute("SELECT count(*) FROM outbox_message WHERE published_at IS NULL").fetchone()[0]
        unscored = conn.execute("SELECT count(*) FROM creator WHERE fraud_risk IS NULL").fetchone()[0]
    return int(unsent), int(unscored)


def drain(db_path: Path, timeout_s: float = 600) -> dict[str, Any]:
    start = time.perf_counter()
    left = backlog(db_path)
    while left != (0, 0) and time.perf_counter() - start < timeout_s:
        time.sleep(2)
        left = backlog(db_path)
        print(f"draining: {left[0]:,} events to relay, {left[1]:,} creators to score", flush=True)
    return {"seconds": round(time.perf_counter() - start, 1), "unrelayed": left[0], "unscored": left[1]}


def orm_baseline(workdir: Path) -> dict[str, Any]:
    """The ORM upsert's rate on a fresh SQLite file, in process: what SQLite bulk ingest used before."""
    url = f"sqlite:///{workdir / 'orm.db'}"
    migrate(url, REPO_ROOT / "services" / "discovery" / "migrations")
    db = Database(url)
    creators = [CreatorIn.model_validate(c) for c in Generator(seed=99).batch(0, ORM_BASELINE)]
    start = time.perf_counter()
    with db.transaction() as session:
        catalog.upsert_creators(session, ORG, creators, Outbox("discovery"))
    seconds = time.perf_counter() - start
    db.close()
    return {"creators": ORM_BASELINE, "creators_per_s": round(ORM_BASELINE / seconds)}


def measure(workdir: Path, size: int) -> dict[str, Any]:
    work = bodies(size)
    warm_creators = Generator(seed=1).batch(10**8, 200)
    warm = orjson.dumps({"creators": warm_creators})
    with LocalBroker(log_path=workdir / "tansu.log") as broker:
        suite = Suite(broker.bootstrap, workdir)
        proc = suite.add("discovery")
        proc.start()
        feeder = None
        try:
            proc.wait_ready(timeout_s=180)
            assert proc.proc is not None
            pid = proc.proc.pid
            httpx.post(f"{proc.url}/v1/creators/bulk", content=warm, headers={"X-Org-Id": ORG,
                       "Content-Type": "application/json"}, timeout=120).raise_for_status()  # fmt: skip
            feeder = ScoreFeeder(broker.bootstrap)
            feeder.scored([c["creator_id"] for c in warm_creators])
            time.sleep(5)  # the warm-up body's event and the consumer's first poll settle
            rss_before = status_kb(pid, "VmRSS")
            load = os.getloadavg()[0]
            posted = post_all(proc.url, work, feeder)
            drained = drain(workdir / "discovery.db")
            peak = status_kb(pid, "VmHWM")
            rss_after = status_kb(pid, "VmRSS")
        finally:
            if feeder is not None:
                feeder.close()
            suite.stop()
    log = (workdir / "discovery.log").read_text(errors="replace")
    return {
        "creators": size,
        "ingest_seconds": round(posted["seconds"], 1),
        "creators_per_s": round(size / posted["seconds"]),
        "http_statuses": posted["statuses"],
        "rss_before_mb": round(rss_before / 1024),
        "rss_peak_mb": round(peak / 1024),
        "rss_after_mb": round(rss_after / 1024),
        "rss_growth_mb": round((peak - rss_before) / 1024),
        "database_locked": log.count(LOCKED),
        "tracebacks_in_log": log.count("Traceback"),
        "drain_after_ingest": drained,
        "load_average_at_start": round(load, 2),
    }


def run(results_dir: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-discovery-sqlite-") as tmp:
        workdir = Path(tmp)
        baseline = orm_baseline(workdir)
        result = measure(workdir, SIZE)
    result["vs_orm_path"] = round(result["creators_per_s"] / baseline["creators_per_s"], 1)
    ok = {
        "ingest_per_s": result["creators_per_s"] >= TARGETS["ingest_per_s"],
        "rss_growth_mb": result["rss_growth_mb"] < TARGETS["rss_growth_mb"],
        "database_locked": result["database_locked"] == 0 and set(result["http_statuses"]) == {"200"},
    }
    out: dict[str, Any] = {"targets": TARGETS, "met": ok, "cores": os.cpu_count(), "writers": WRITERS,
                           "batch": BATCH, "baseline_orm_upsert": baseline, "result": result,
                           "load_average_at_end": os.getloadavg()}  # fmt: skip
    (results_dir / "discovery_sqlite.json").write_text(json.dumps(out, indent=2))
    (results_dir / "discovery_sqlite.md").write_text(markdown(out))
    return out


def markdown(out: dict[str, Any]) -> str:
    r, b, t = out["result"], out["baseline_orm_upsert"], out["targets"]
    d = r["drain_after_ingest"]
    met = ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in out["met"].items())
    return "\n".join([
        "# Discovery bulk ingest on SQLite (the zero-setup default)",
        "",
        f"One discovery process (`tandem serve discovery`, SQLite in WAL mode, outbox relay and consumer on, "
        f"tansu broker); {r['creators']:,} generated creators posted to POST /v1/creators/bulk in bodies of "
        f"{out['batch']:,} from {out['writers']} client threads, a FraudScored per creator published after "
        f"each body so the consumer writes at the same time. {out['cores']} cores shared with other work "
        f"(load average {r['load_average_at_start']} at the start, {out['load_average_at_end'][0]:.1f} at the end).",
        "",
        f"Targets: >= {t['ingest_per_s']:,} creators/s, RSS growth < {t['rss_growth_mb']} MB, "
        f"{t['database_locked']} \"database is locked\". Result: {met}.",
        "",
        "| creators/s | ingest s | RSS before / peak / after MB | RSS growth MB | \"database is locked\" | HTTP answers "
        "| drain after ingest s (unrelayed, unscored left) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {r['creators_per_s']:,} | {r['ingest_seconds']} | {r['rss_before_mb']} / {r['rss_peak_mb']} / "
        f"{r['rss_after_mb']} | {r['rss_growth_mb']} | {r['database_locked']} | {r['http_statuses']} "
        f"| {d['seconds']} ({d['unrelayed']}, {d['unscored']}) |",
        "",
        f"Baseline in the same run: the ORM upsert (the SQLite path before) on {b['creators']:,} creators in "
        f"process: {b['creators_per_s']:,} creators/s; the bulk path through HTTP is {r['vs_orm_path']}x that.",
    ]) + "\n"  # fmt: skip
