"""Review at 50+ campaigns a month, on SQLite: shortlist -> routed and assigned tasks, a reviewer's
queue, a decision, and the overdue sweep.

`python -m benchmarks review` builds a temporary database, a team of 12 reviewers over 5 markets, and
publishes 60 shortlists of 20 finalists (a busy month: 1,200 finalists) through `create_tasks`, then
times a reviewer's queue, decisions and a sweep over every open task. The baseline is `route()` on one
finalist (pure Python, no I/O), measured in the same run: figures are also given as multiples of it.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from services.review import decisions, escalation, reviewers, tasks
from services.review.models import ReviewAssignment, ReviewTask
from services.review.routing import Policy, route
from services.review.schemas import DecisionIn, ReviewerIn
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.events import CreatorSnapshot, MarketStats, ShortlistEntry, ShortlistPublished
from shared.settings import REPO_ROOT

ORG = "bench"
MARKETS = ["US", "GB", "CA", "RU", "KZ"]
POLICY = Policy(0.85, 0.25, 0.7, audit_sample_rate=0.1)
PLAN = tasks.Plan(POLICY, {"strategic": 48, "volume": 24, "audit": 72}, 2)


def _entry(i: int) -> ShortlistEntry:
    market = MARKETS[i % len(MARKETS)]
    creator = CreatorSnapshot(creator_id=f"cr-{i}", name=f"Creator {i}", home_market=market, platform="instagram",
                              followers=10_000 + i, engagement_rate=0.02,
                              audience=[MarketStats(market=market, audience_share=0.7, engagement_rate=0.02)])  # fmt: skip
    match, risk = 0.6 + (i * 37 % 40) / 100, (i * 53 % 100) / 100
    return ShortlistEntry(rank=1 + i % 20, creator=creator, match_score=min(match, 1.0), fraud_risk=risk,
                          reasons=[], data_as_of=datetime.now(UTC))  # fmt: skip


def _shortlist(n: int) -> ShortlistPublished:
    return ShortlistPublished(shortlist_id=f"sl-{n}", campaign_id=f"cmp-{n}", brief_name=f"brief {n}",
                              tier="strategic" if n % 5 == 0 else "volume", target_markets=MARKETS,
                              model_name="ranking", model_version="1",
                              entries=[_entry(n * 20 + k) for k in range(20)], created_at=datetime.now(UTC))  # fmt: skip


def _times(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def run(results_dir: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'review.db'}"
        migrate(url, REPO_ROOT / "services" / "review" / "migrations")
        db, outbox = Database(url), Outbox("review")
        result = _measure(db, outbox)
        db.close()
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "review.json").write_text(json.dumps(result, indent=2))
    (results_dir / "review.md").write_text(_markdown(result))
    return result


def _measure(db: Database, outbox: Outbox) -> dict[str, Any]:
    entry = _entry(7)
    baseline = statistics.median(_times(lambda: route(entry, "volume", POLICY), 20_000))
    with db.transaction() as session:
        for k in range(12):
            body = ReviewerIn(
                name=f"r{k}", markets=MARKETS[k % 5 : k % 5 + 2] or MARKETS[:1], daily_capacity=60
            )
            reviewers.upsert(session, ORG, f"r{k}", body)

    def publish(n: int) -> None:
        with db.transaction() as session:
            tasks.create_tasks(session, ORG, _shortlist(n), PLAN, outbox)

    shortlist_s = [_times(lambda n=n: publish(n), 1)[0] for n in range(60)]  # type: ignore[misc]
    with db.transaction() as session:
        person = reviewers.get(session, ORG, "r0")
    queue_s = _times(lambda: _queue(db, person), 50)
    decide_s = _decisions(db, outbox)
    sweep_s = _times(lambda: _sweep(db, outbox), 5)
    per_finalist = statistics.median(shortlist_s) / 20
    return {
        "baseline_route_us": round(baseline * 1e6, 2),
        "shortlist_of_20_p50_ms": round(statistics.median(shortlist_s) * 1e3, 2),
        "shortlist_of_20_p95_ms": round(_p(shortlist_s, 0.95) * 1e3, 2),
        "per_finalist_x_route": round(per_finalist / baseline, 1),
        "queue_p50_ms": round(statistics.median(queue_s) * 1e3, 2),
        "queue_p95_ms": round(_p(queue_s, 0.95) * 1e3, 2),
        "decision_p50_ms": round(statistics.median(decide_s) * 1e3, 2),
        "decision_p95_ms": round(_p(decide_s, 0.95) * 1e3, 2),
        "sweep_all_open_p50_ms": round(statistics.median(sweep_s) * 1e3, 2),
        "open_tasks": _count_open(db),
        "finalists": 60 * 20,
    }


def _queue(db: Database, person: Any) -> None:
    with db.transaction() as session:
        reviewers.queue(session, person)


def _decisions(db: Database, outbox: Outbox) -> list[float]:
    with db.transaction() as session:
        open_rows = list(
            session.exec(select(ReviewAssignment).where(ReviewAssignment.status == "open").limit(100))
        )
    out = []
    for a in open_rows:
        body = DecisionIn(reviewer=a.reviewer_id, decision="approve")
        t = time.perf_counter()
        with db.transaction() as session:
            decisions.decide(session, ORG, a.task_id, body, outbox)
        out.append(time.perf_counter() - t)
    return out


def _sweep(db: Database, outbox: Outbox) -> None:
    with db.transaction() as session:
        escalation.sweep(session, outbox, datetime.now(UTC), 24)


def _count_open(db: Database) -> int:
    with db.transaction() as session:
        return int(
            session.exec(
                select(func.count()).select_from(ReviewTask).where(ReviewTask.status == "open")
            ).one()
        )


def _markdown(r: dict[str, Any]) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in r.items())
    return f"# Review benchmark (SQLite, one process)\n\n| Figure | Value |\n| --- | --- |\n{rows}\n"
