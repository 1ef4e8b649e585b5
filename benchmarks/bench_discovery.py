"""Discovery at scale on PostgreSQL: bulk ingest rate, filtered search p95, brief -> top-50 shortlist p95.

`python -m benchmarks discovery` creates its own database per catalogue size on 127.0.0.1:5432 (or
TANDEM_TEST_DATABASE_URL's server), generates the catalogue (shape of tandem.synthetic, vectorised so
generation is not what is measured), ingests it as JSON bodies of 5,000 through bulk.ingest_json, the
function POST /v1/creators/bulk calls (pydantic validation of the raw body, binary COPY upsert, commit),
in two writer processes (two API replicas), then times searches and briefs, and drops the database. Then
the same creators go into a second new database with only PostgreSQL on the cores: the writers' code makes
every request's statements and COPY bytes first, two connections send them (TANDEM_BENCH_DISCOVERY_DB_ONLY=0
leaves this out); the deployment runs the API replicas apart from the database.
Sizes: TANDEM_BENCH_DISCOVERY_SIZES (default "100000,1000000"; other sizes write discovery_<sizes>.json).
Figures are also given as ratios against a primary-key lookup measured in the same run (the machine is
shared and noisy); search p95 also per query shape (SEARCHES).
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psycopg
from sqlalchemy import func
from sqlmodel import select

from benchmarks import host
from benchmarks.pg_server import DEPLOYED_SETTINGS, deployed_server
from services.discovery import bulk, planner_stats, search
from services.discovery.bulk_plan import payloads_of
from services.discovery.config import DiscoverySettings
from services.discovery.matching import build_shortlist
from services.discovery.models import Creator
from services.discovery.schemas import BriefIn, BulkCreatorsIn, SearchIn
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.input_limits import validated
from shared.model_registry import ModelRegistry
from shared.norms import engagement_norm
from shared.settings import REPO_ROOT
from shared.vocabulary import AGE_BANDS, CATEGORIES, SHORT_VIDEO_PLATFORMS
from tandem.synthetic import LANGUAGE, MARKET_WEIGHTS, NEIGHBOURS, PLATFORMS_BY_SPHERE, RU_SPHERE

ADMIN_URL = os.environ.get("TANDEM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ORG = "bench"
BATCH = 5000  # the REST endpoint's largest body
MIGRATIONS = REPO_ROOT / "services" / "discovery" / "migrations"
POOL = DiscoverySettings().candidate_pool
DEFAULT_SIZES = [100_000, 1_000_000]
TARGETS = {"ingest_per_s": 10_000, "search_p95_ms": 100, "brief_p95_ms": 300}

# The query shapes of issue 17's mix, by name: text, sorts by price and engagement under selective filters,
# audience-share and demographic filters, multi-market engagement. (Sorting by one market's audience share
# is not a search sort key yet; the shapes filter on it instead.)
SEARCHES: dict[str, dict[str, Any]] = {
    "engagement in 3 of 5 markets": {"engagement": {"markets": ["US", "GB", "CA", "DE", "MX"], "min_rate": 0.03,
                                                    "min_markets": 3}},
    "engagement in 2 of 3 markets, platforms, fraud cap": {
        "engagement": {"markets": ["RU", "KZ", "UA"], "min_rate": 0.02, "min_markets": 2},
        "platforms": ["vk", "telegram"], "max_fraud_risk": 0.5},
    "audience share, tiers, categories, by engagement": {
        "platforms": ["instagram"], "tiers": ["micro", "mid"], "categories": ["beauty", "fashion"],
        "audience_markets": ["US"], "min_audience_share": 0.3, "sort": "engagement_rate"},
    "category, language, followers, price cap": {"categories": ["fitness"], "languages": ["ru"],
                                                 "min_followers": 10_000, "max_price_usd": 2_000},
    "audience share, age and gender, by followers": {
        "audience_markets": ["BR", "AR"], "min_audience_share": 0.2, "age_bands": ["18-24", "25-34"],
        "min_age_share": 0.5, "min_female_share": 0.5, "sort": "followers"},
    "tiers by growth": {"tiers": ["macro", "mega"], "sort": "growth"},
    "categories, platforms, cheapest first": {"categories": ["gaming", "tech"], "platforms": ["youtube", "tiktok"],
                                              "sort": "price_usd", "descending": False},
    "engagement in 2 markets, never worked with": {
        "engagement": {"markets": ["IN", "ID"], "min_rate": 0.02, "min_markets": 2}, "worked_with": "no"},
    "text: a name": {"text": "Creator 4242"},
    "text: a handle": {"text": "h1411_instagram"},  # cr-00052000's account in the generated catalogue
    "selective filters, cheapest first": {"categories": ["parenting"], "languages": ["de"],
                                          "platforms": ["youtube"], "sort": "price_usd", "descending": False},
    "older women audience, by engagement": {"age_bands": ["45-54", "55+"], "min_age_share": 0.45,
                                            "min_female_share": 0.8, "sort": "engagement_rate"},
    "half the audience in DE, cheapest first": {"audience_markets": ["DE"], "min_audience_share": 0.5,
                                                "sort": "price_usd", "descending": False},
    # Nobody is fraud-scored in a generated catalogue: the walk passes unscored creators in id order, the
    # place they take after every score, checking the same filters.
    "engagement in 2 of 3 markets, lowest fraud risk first": {
        "engagement": {"markets": ["DE", "FR", "ES"], "min_rate": 0.02, "min_markets": 2},
        "sort": "fraud_risk", "descending": False},
}  # fmt: skip
BRIEFS: list[dict[str, Any]] = [
    {"name": "RU fitness", "category": "fitness", "target_markets": ["RU", "KZ"],
     "platforms": ["vk", "telegram", "youtube"], "budget_usd": 30_000},
    {"name": "US skincare", "category": "beauty", "target_markets": ["US", "GB", "CA"],
     "platforms": ["instagram", "tiktok", "youtube"], "budget_usd": 60_000},
    {"name": "BR gaming", "category": "gaming", "target_markets": ["BR"], "platforms": ["youtube", "tiktok"]},
    {"name": "EU travel", "category": "travel", "target_markets": ["DE", "FR", "IT", "ES"],
     "platforms": ["instagram", "youtube"], "budget_usd": 100_000, "tier": "strategic"},
    {"name": "IN tech", "category": "tech", "target_markets": ["IN"], "platforms": ["youtube", "instagram"],
     "min_followers": 10_000},
]  # fmt: skip


# --- the catalogue --------------------------------------------------------------------------------------


class Generator:
    """The demo world's shape (tandem.synthetic), drawn in numpy blocks so 1M creators take seconds."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.markets = list(MARKET_WEIGHTS)
        w = np.array(list(MARKET_WEIGHTS.values()))
        self.weights = w / w.sum()

    def batch(self, start: int, n: int) -> list[dict[str, Any]]:
        rng = self.rng
        homes = rng.choice(len(self.markets), size=n, p=self.weights)
        followers = np.minimum(1000 * (1 - rng.random(n)) ** (-1 / 0.55), 3e8).astype(int)
        noise = rng.lognormal(0, 0.45, size=(n, 3))
        return [
            self._creator(start + i, self.markets[homes[i]], int(followers[i]), noise[i]) for i in range(n)
        ]

    def _creator(self, n: int, home: str, followers: int, noise: np.ndarray) -> dict[str, Any]:
        rng = self.rng
        options = PLATFORMS_BY_SPHERE[home in RU_SPHERE]
        names = [p for p, _ in options]
        k = 1 + int(rng.random() < 0.5) + int(rng.random() < 0.15)
        platforms = rng.choice(names, size=k, replace=False, p=np.array([w for _, w in options]) / 1.0)
        accounts = [self._account(str(p), followers if i == 0 else max(500, int(followers * 0.3)), noise[i])
                    for i, p in enumerate(platforms)]  # fmt: skip
        near = NEIGHBOURS[home]
        markets = [home, *near]
        shares = rng.dirichlet([6.0] + [1.2] * len(near))
        main_er = accounts[0]["engagement_rate"]
        mer = main_er * rng.lognormal(0, 0.3, size=len(markets))
        audience = [
            {"market": m, "audience_share": float(np.floor(s * 1e4) / 1e4), "engagement_rate": round(float(min(e, 0.6)), 5)}
            for m, s, e in zip(markets, shares, mer, strict=True) if s >= 0.005
        ]  # fmt: skip
        ages = rng.dirichlet(np.ones(len(AGE_BANDS))) * 0.99
        return {
            "creator_id": f"cr-{n:08d}", "name": f"Creator {n}", "home_market": home,
            "languages": [LANGUAGE[home]],
            "categories": [str(c) for c in rng.choice(CATEGORIES, size=1 + int(rng.random() < 0.4), replace=False)],
            "accounts": accounts, "audience": audience,
            "price_usd": round(max(followers * 0.01 * float(noise[2]), 20.0), 2),
            "audience_female_share": round(float(rng.random()), 3),
            "audience_age": {b: round(float(a), 4) for b, a in zip(AGE_BANDS, ages, strict=True)},
        }  # fmt: skip

    def _account(self, platform: str, followers: int, noise: float) -> dict[str, Any]:
        er = min(engagement_norm(platform, followers) * float(noise), 0.5)
        return {
            "platform": platform, "handle": f"h{followers}_{platform}", "followers": followers,
            "engagement_rate": round(er, 5),
            "engagement_basis": "per_view" if platform in SHORT_VIDEO_PLATFORMS else "per_follower",
            "median_monthly_growth": round(float(self.rng.lognormal(np.log(0.02), 0.5)), 4),
        }  # fmt: skip


# --- measuring --------------------------------------------------------------------------------------------


def _pct(samples: list[float], q: float) -> float:
    return round(float(np.percentile(samples, q)), 2)


def _summary(samples_ms: list[float]) -> dict[str, float]:
    return {"n": len(samples_ms), "p50_ms": _pct(samples_ms, 50), "p95_ms": _pct(samples_ms, 95),
            "max_ms": round(max(samples_ms), 2)}  # fmt: skip


def _timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


_WRITER: Database | None = None  # each writer process's own engine


def _start_writer(url: str) -> None:
    global _WRITER
    _WRITER = Database(url)
    assert _WRITER.ping()  # connected before the clock starts


def _ingest_batch(body: bytes) -> float:
    """One bulk request's work, through the function POST /v1/creators/bulk calls: validate the JSON body,
    COPY upsert, commit. Returns the CPU time it took this writer process."""
    assert _WRITER is not None
    t = time.process_time()
    result = bulk.ingest_json(_WRITER, ORG, body, Outbox("discovery"))
    assert result.created == result.received  # a fresh catalogue: every creator is new
    return time.process_time() - t


_BODIES: dict[int, tuple[list[bytes], float]] = {}


def bodies(size: int) -> tuple[list[bytes], float]:
    """The catalogue of `size` creators as JSON bodies of 5,000, and the seconds generating it took; made
    once per size and given to every server (generating 1M creators takes a minute or more)."""
    if size not in _BODIES:
        gen = Generator()
        t = time.perf_counter()
        made = [
            orjson.dumps({"creators": gen.batch(start, min(BATCH, size - start))})
            for start in range(0, size, BATCH)
        ]
        _BODIES[size] = made, time.perf_counter() - t
    return _BODIES[size]


def _cpu_figures(size: int, wall: float, cpu: dict[str, float]) -> dict[str, Any]:
    return {"creators": size, "wall_s": round(wall, 1), "creators_per_s": round(size / wall),
            "machine_cpu_us_per_creator": round(cpu["cpu_s"] / size * 1e6, 1), "machine_busy": cpu["busy"]}  # fmt: skip


def ingest(url: str, size: int, writers: int = 2) -> dict[str, Any]:
    """The catalogue as JSON bodies of 5,000 creators (generated first, not timed), then ingested by two
    writer processes, as two API replicas would each run a bulk request (each request is one
    transaction), so PostgreSQL's work on one batch overlaps Python's on the next. Timed from the first
    body to the last commit."""
    batches, gen_s = bodies(size)
    load = os.getloadavg()[0]  # other work on the machine: the figures are wall-clock
    probe = host.probe_ms()  # and so is the machine's speed, which drifts (benchmarks/host.py)
    context = multiprocessing.get_context("fork")  # the writers start with this process's imports
    with ProcessPoolExecutor(writers, mp_context=context, initializer=_start_writer, initargs=(url,)) as pool:
        list(pool.map(time.sleep, [0.2] * writers))  # every writer up and connected
        machine = host.MachineCpu().start()
        started = time.perf_counter()
        python_s = sum(pool.map(_ingest_batch, batches))
        wall = time.perf_counter() - started
        cpu = machine.stop()
    # The ingest is CPU-bound when the cores are busy throughout: then the rate is the cores over the CPU
    # a creator costs (Python's and the database's), and that cost is what a change has to cut.
    return {**_cpu_figures(size, wall, cpu), "writers": writers, "writer": "process", "batch": BATCH,
            "generation_s_untimed": round(gen_s, 1), "python_cpu_us_per_creator": round(python_s / size * 1e6, 1),
            "host_probe_ms": probe, "load_average_at_start": round(load, 2)}  # fmt: skip


# --- the database's share of the ingest ------------------------------------------------------------------


class _Recorder:
    """Stands in for the database cursor bulk.copy_upsert_payloads writes through: keeps each statement
    and COPY stream in order, and answers the stored-rows query with none (the catalogue is new)."""

    def __init__(self) -> None:
        self.ops: list[tuple[str, str, Any]] = []

    def execute(self, sql: str, params: Any = None) -> None:
        self.ops.append(("execute", sql, params))

    def fetchall(self) -> list[Any]:
        return []

    @contextmanager
    def copy(self, sql: str) -> Iterator[_Recorder]:
        self.ops.append(("copy", sql, None))
        yield self

    def write(self, data: bytes) -> None:
        kind, sql, _ = self.ops[-1]
        self.ops[-1] = (kind, sql, bytes(data))


def _render(body: bytes) -> list[tuple[str, str, Any]]:
    """What a bulk request sends PostgreSQL for one body, made by the request's own code (validation, the
    stored-rows query, rows in COPY's binary format, outbox envelopes), without a database."""
    creators = validated(BulkCreatorsIn, body).creators
    recorder = _Recorder()
    ids = [c.creator_id for c in creators]
    stored = bulk.stored_rows(recorder, ORG, ids)
    bulk.copy_upsert_payloads(
        recorder, ORG, payloads_of(creators), Outbox("discovery"), stored, received=len(ids)
    )
    return recorder.ops


def _replay(db: Database, ops: list[tuple[str, str, Any]]) -> None:
    """One request's statements in one transaction, then the statistics check ingest_json makes."""
    with db.transaction() as session:
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        for kind, sql, arg in ops:
            if kind == "copy":
                with cursor.copy(sql) as copy:
                    copy.write(arg)
            else:
                cursor.execute(sql, arg)
                if cursor.description:
                    cursor.fetchall()
    with db.transaction() as session:
        planner_stats.refresh_if_stale(session)


def _replay_all(db: Database, requests: list[list[tuple[str, str, Any]]]) -> None:
    for ops in requests:
        _replay(db, ops)


def ingest_database_only(url: str, size: int, connections: int = 2) -> dict[str, Any]:
    """PostgreSQL's share of the same ingest, as when the API replicas run on cores of their own (the
    deployment scales them apart): every request's statements and COPY bytes are made first by the
    writers' code (untimed), then sent by two connections, each request one transaction as before."""
    batches, _ = bodies(size)
    t = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        requests = list(pool.map(_render, batches))
    render_s = time.perf_counter() - t
    sent = sum(len(arg) for ops in requests for kind, _, arg in ops if kind == "copy")
    probe = host.probe_ms()
    dbs = [Database(url) for _ in range(connections)]
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(lambda db: db.ping(), dbs))  # connected before the clock starts
        machine = host.MachineCpu().start()
        started = time.perf_counter()
        # Request i on connection i mod 2, the two in flight at once (the threads wait on the server).
        list(pool.map(_replay_all, dbs, [requests[k::connections] for k in range(connections)]))
        wall = time.perf_counter() - started
        cpu = machine.stop()
    with dbs[0].transaction() as session:
        stored = session.exec(select(func.count()).select_from(Creator).where(Creator.org_id == ORG)).one()
    for db in dbs:
        db.close()
    assert stored == size, f"{stored} of {size} creators stored"
    return {**_cpu_figures(size, wall, cpu), "connections": connections, "render_s_untimed": round(render_s, 1),
            "copy_bytes_per_creator": round(sent / size), "host_probe_ms": probe}  # fmt: skip


def _analyze(url: str) -> float:
    t = time.perf_counter()
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return round(time.perf_counter() - t, 1)


def time_searches(db: Database, rounds: int) -> dict[str, Any]:
    per_query: dict[str, list[float]] = {name: [] for name in SEARCHES}
    hits: dict[str, int] = {}
    for _ in range(rounds):
        for i, filters in SEARCHES.items():
            q = SearchIn.model_validate({**filters, "limit": 50})
            out: list[Any] = []

            def page(q: SearchIn = q, out: list[Any] = out) -> None:
                with db.transaction() as session:
                    out.append(search.search(session, ORG, q))

            per_query[i].append(_timed(page))
            hits[i] = len(out[0].hits)
            if out[0].next_cursor:  # the second page, through the cursor
                q2 = q.model_copy(update={"cursor": out[0].next_cursor})
                per_query[i].append(_timed(lambda q2=q2: _search_once(db, q2)))
    samples = [s for v in per_query.values() for s in v]
    return {**_summary(samples), "per_query_p95_ms": {i: _pct(v, 95) for i, v in per_query.items()},
            "per_query_samples": {i: len(v) for i, v in per_query.items()}, "hits_first_page": hits}  # fmt: skip


def _search_once(db: Database, q: SearchIn) -> None:
    with db.transaction() as session:
        search.search(session, ORG, q)


def time_briefs(db: Database, rounds: int) -> dict[str, Any]:
    model = ModelRegistry(REPO_ROOT / "models").load_champion("ranking")
    outbox = Outbox("discovery")
    samples, considered, ru_ok = [], {}, True
    for _ in range(rounds):
        for b in BRIEFS:
            brief = BriefIn.model_validate({**b, "shortlist_size": 50})
            result: list[Any] = []

            def run(brief: BriefIn = brief, result: list[Any] = result) -> None:
                with db.transaction() as session:
                    result.append(build_shortlist(session, ORG, brief, model, outbox, owner="bench", size=50, pool=POOL,
                                                  max_market_share=0.6))  # fmt: skip

            samples.append(_timed(run))
            entries = result[0].event.entries
            considered[b["name"]] = result[0].candidates_considered
            assert len(entries) == 50 and all(any(r.value is not None for r in e.reasons) for e in entries)
            if b["name"] == "RU fitness":
                ru_ok &= all(any(m.market in ("RU", "KZ") for m in e.creator.audience) for e in entries)
    return {
        **_summary(samples),
        "candidates_considered": considered,
        "ru_brief_all_have_ru_or_kz_audience": ru_ok,
    }


def time_baseline(db: Database, size: int, n: int = 200) -> dict[str, float]:
    """A primary-key lookup through the same session machinery: the yardstick for the ratios."""
    rng = np.random.default_rng(1)
    samples = []
    for i in rng.integers(0, size, n):

        def lookup(i: int = int(i)) -> None:
            with db.transaction() as session:
                session.get(Creator, (ORG, f"cr-{i:08d}"))

        samples.append(_timed(lookup))
    return _summary(samples)


def _create(admin: str, name: str) -> str:
    """A new, migrated database on the server; its SQLAlchemy URL."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    migrate(url, MIGRATIONS)
    return url


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_size(admin: str, size: int) -> dict[str, Any]:
    name = f"tandem_bench_discovery_{size}"
    try:
        url = _create(admin, name)
        db = Database(url)
        out: dict[str, Any] = {"size": size, "ingest": ingest(url, size), "vacuum_analyze_s": _analyze(url)}
        out["baseline_pk_lookup"] = time_baseline(db, size)
        # 16 rounds: each shape's p95 rests on 32 samples (first and second pages), not its slowest two.
        out["search"] = time_searches(db, rounds=16)
        out["brief_top50"] = time_briefs(db, rounds=6)
        base = out["baseline_pk_lookup"]["p50_ms"]
        out["ratios_vs_pk_lookup_p50"] = {
            "search_p95": round(out["search"]["p95_ms"] / base, 1),
            "brief_p95": round(out["brief_top50"]["p95_ms"] / base, 1),
        }
        db.close()
    finally:
        _drop(admin, name)
    if os.environ.get("TANDEM_BENCH_DISCOVERY_DB_ONLY", "1") == "1":
        try:  # a second catalogue, the same creators, this time with only the database on the cores
            out["ingest_database_only"] = ingest_database_only(_create(admin, name), size)
        finally:
            _drop(admin, name)
    return out


# Shown with every server's figures: the durability settings change what a write costs (the project's own
# test server, which `make test` starts and TANDEM_TEST_DATABASE_URL usually names, runs with them off).
DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")


def _server_settings(admin: str) -> dict[str, str]:
    with psycopg.connect(admin, autocommit=True) as conn:
        names = (*DEPLOYED_SETTINGS, *DURABILITY)
        return {name: str(conn.execute(f"SHOW {name}").fetchone()[0]) for name in names}  # type: ignore[index]


def _one_server(label: str, admin: str, sizes: list[int]) -> dict[str, Any]:
    results = [one_size(admin, s) for s in sizes]
    out: dict[str, Any] = {"server": label, "settings": _server_settings(admin), "sizes": results}
    if len(results) >= 2:
        small, big = results[0], results[-1]
        out["growth"] = {
            "catalogue": round(big["size"] / small["size"], 1),
            "ingest_rate": round(big["ingest"]["creators_per_s"] / small["ingest"]["creators_per_s"], 2),
            "search_p95": round(big["search"]["p95_ms"] / small["search"]["p95_ms"], 2),
            "brief_p95": round(big["brief_top50"]["p95_ms"] / small["brief_top50"]["p95_ms"], 2),
            "pk_lookup_p50": round(big["baseline_pk_lookup"]["p50_ms"] / small["baseline_pk_lookup"]["p50_ms"], 2),
        }  # fmt: skip
    return out


def run(results_dir: Path) -> dict[str, Any]:
    """Every size on this machine's server as it is, then on a private server configured as deployed."""
    gc.freeze()  # as the service does after start-up (services/discovery/app.py)
    default = ",".join(map(str, DEFAULT_SIZES))
    sizes = [int(s) for s in os.environ.get("TANDEM_BENCH_DISCOVERY_SIZES", default).split(",")]
    servers = [
        _one_server(f"the server at {ADMIN_URL.rsplit('@', 1)[-1]}", ADMIN_URL.replace("+psycopg", ""), sizes)
    ]
    if os.environ.get("TANDEM_BENCH_DISCOVERY_DEPLOYED", "1") == "1":
        with deployed_server() as admin:
            if admin is not None:
                servers.append(
                    _one_server("a private server with docker-compose.yml's settings", admin, sizes)
                )
    out: dict[str, Any] = {"targets": TARGETS, "cores": os.cpu_count(), "candidate_pool": POOL,
                           "load_average_at_end": os.getloadavg(), "servers": servers}  # fmt: skip
    # A run at other sizes than the default (e.g. 100k only, where 1M does not fit) keeps its own file.
    name = "discovery" if sizes == DEFAULT_SIZES else "discovery_" + "_".join(map(str, sizes))
    (results_dir / f"{name}.json").write_text(json.dumps(out, indent=2))
    (results_dir / f"{name}.md").write_text(markdown(out))
    return out


def markdown(out: dict[str, Any]) -> str:
    lines = [
        "# Discovery benchmark (PostgreSQL, generated catalogue)",
        "",
        f"Targets: ingest >= {TARGETS['ingest_per_s']:,} creators/s; search p95 < {TARGETS['search_p95_ms']} ms; "
        f"brief -> top-50 p95 < {TARGETS['brief_p95_ms']} ms. {out['cores']} cores, shared with other work.",
        "",
        "Ingest CPU counts every process on the machine (the writers, PostgreSQL, anything else running).",
        f"The host probe is the best time of {host.PROBE_ADDS:,} pure-Python additions (benchmarks/host.py):",
        "this machine's speed drifts, and a CPU-bound rate with it.",
    ]
    for server in out["servers"]:
        settings = ", ".join(f"{k} {v}" for k, v in server["settings"].items())
        lines += [
            "",
            f"## On {server['server']} ({settings})",
            "",
            "| creators | ingest creators/s (2 writer processes) | ingest CPU us/creator: all / Python "
            "| cores busy | search p50 / p95 ms | brief top-50 p50 / p95 ms | PK lookup p50 ms "
            "| load avg, host probe ms at ingest |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in server["sizes"]:
            i, s, b = r["ingest"], r["search"], r["brief_top50"]
            lines.append(
                f"| {r['size']:,} | {i['creators_per_s']:,} | {i['machine_cpu_us_per_creator']} / "
                f"{i['python_cpu_us_per_creator']} | {i['machine_busy']:.0%} | {s['p50_ms']} / {s['p95_ms']} | "
                f"{b['p50_ms']} / {b['p95_ms']} | {r['baseline_pk_lookup']['p50_ms']} "
                f"| {i['load_average_at_start']:.1f}, {i['host_probe_ms']} |"
            )
        if "growth" in server:
            lines += ["", f"Growth from smallest to largest: {json.dumps(server['growth'])}"]
        lines += _database_only(server["sizes"])
        lines += _shapes(server["sizes"])
    return "\n".join(lines) + "\n"


def _database_only(sizes: list[dict[str, Any]]) -> list[str]:
    """The same ingest with only the database on the cores (the writers' statements made beforehand)."""
    rows = [r for r in sizes if "ingest_database_only" in r]
    if not rows:
        return []
    lines = [
        "",
        "The same creators into a second, new catalogue with only PostgreSQL on the cores: each request's "
        "statements and COPY bytes made beforehand by the writers' code, then sent by two connections, "
        "as when the API replicas run on cores of their own:",
        "",
        "| creators | database only: creators/s | CPU us/creator | cores busy | COPY bytes/creator "
        "| host probe ms | with the writers on the same cores: creators/s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        d = r["ingest_database_only"]
        lines.append(
            f"| {r['size']:,} | {d['creators_per_s']:,} | {d['machine_cpu_us_per_creator']} | "
            f"{d['machine_busy']:.0%} | {d['copy_bytes_per_creator']:,} | {d['host_probe_ms']} | "
            f"{r['ingest']['creators_per_s']:,} |"
        )
    return lines


def _shapes(sizes: list[dict[str, Any]]) -> list[str]:
    """Search p95 per query shape and size, next to the primary-key lookup of the same run."""
    head = " | ".join(f"{r['size']:,}: p95 ms (x PK lookup), samples, first-page hits" for r in sizes)
    lines = ["", f"| search shape | {head} |", "| --- |" + " --- |" * len(sizes)]
    for name in sizes[0]["search"]["per_query_p95_ms"]:
        cells = []
        for r in sizes:
            p95, pk = r["search"]["per_query_p95_ms"][name], r["baseline_pk_lookup"]["p50_ms"]
            n, hits = r["search"]["per_query_samples"][name], r["search"]["hits_first_page"][name]
            cells.append(f"{p95} ({p95 / pk:.0f}x), {n}, {hits}")
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return lines
