"""The learnt cache under request threads and the consumer at once: one rebuild per organisation at a time,
no entry kept from a rebuild that a committed result overtook, one cache per runtime."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from services.forecast import learning, learnt_cache
from shared.db import Database

THREADS = 16


@dataclass(frozen=True)
class Taught:
    """Stands in for learning.Learnt: which organisation and which rebuild it came from."""

    org_id: str
    rebuild: int


class Measure:
    """learning.learnt's stand-in: counts rebuilds (at most how many ran at once per organisation) and
    can hold one until told to go on."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds, self.calls, self.lock = seconds, 0, threading.Lock()
        self.running: dict[str, int] = {}
        self.most_at_once = 0
        self.hold: threading.Event | None = None
        self.started = threading.Event()

    def __call__(self, session: Any, model: Any, org_id: str) -> Taught:
        with self.lock:
            self.calls += 1
            rebuild = self.calls
            self.running[org_id] = self.running.get(org_id, 0) + 1
            self.most_at_once = max(self.most_at_once, self.running[org_id])
        self.started.set()
        if self.hold is not None:
            assert self.hold.wait(10)
        time.sleep(self.seconds)
        with self.lock:
            self.running[org_id] -= 1
        return Taught(org_id, rebuild)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'cache.db'}")


def _result_committed(cache: learnt_cache.LearntCache, db: Database, org_id: str) -> None:
    """What the consumer does when it stores a result: drop the organisation's entry once committed."""
    with db.transaction() as session:
        cache.forget_after_commit(session, org_id)


def _measured(monkeypatch: pytest.MonkeyPatch, measure: Measure) -> Measure:
    monkeypatch.setattr(learning, "learnt", measure)
    return measure


def _together(work: Callable[[int], None], threads: int = THREADS) -> None:
    """Run work(i) on `threads` threads released at once; re-raise the first failure."""
    start, failures = threading.Barrier(threads), []

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as exc:  # handed to the test thread
            failures.append(exc)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(30)
    assert not failures, failures[0]


def test_concurrent_misses_of_one_organisation_rebuild_it_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    measure = _measured(monkeypatch, Measure(seconds=0.05))
    cache, model = learnt_cache.LearntCache(db), SimpleNamespace(version="v1")
    answers: list[Any] = []
    _together(lambda _: answers.append(cache.refresh("acme", model)))  # type: ignore[arg-type]
    assert measure.calls == 1 and measure.most_at_once == 1
    assert len(answers) == THREADS and {id(a) for a in answers} == {id(answers[0])}


def test_a_rebuild_overtaken_by_a_committed_result_answers_but_is_not_kept(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    measure = _measured(monkeypatch, Measure())
    measure.hold = threading.Event()
    cache, model = learnt_cache.LearntCache(db), SimpleNamespace(version="v1")
    answer: list[Any] = []
    slow = threading.Thread(target=lambda: answer.append(cache.refresh("acme", model)))  # type: ignore[arg-type]
    slow.start()
    assert measure.started.wait(10)
    _result_committed(cache, db, "acme")  # while the rebuild was reading the rows from before it
    measure.hold.set()
    slow.join(10)
    assert answer == [Taught("acme", 1)]
    assert cache.cached("acme", model) is None  # type: ignore[arg-type]
    assert cache.refresh("acme", model) == Taught("acme", 2)  # type: ignore[arg-type]
    assert cache.cached("acme", model) == Taught("acme", 2)  # type: ignore[arg-type]


def test_hammered_from_threads_every_read_is_whole_and_of_its_own_organisation(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    measure = _measured(monkeypatch, Measure(seconds=0.001))
    cache = learnt_cache.LearntCache(db)
    models = [SimpleNamespace(version="v1"), SimpleNamespace(version="v2")]
    orgs = [f"org-{i}" for i in range(4)]

    def work(i: int) -> None:
        rng = random.Random(i)
        for _ in range(300):
            org, model, roll = rng.choice(orgs), rng.choice(models), rng.random()
            if roll < 0.05:
                _result_committed(cache, db, org)
            elif roll < 0.06:
                cache.forget_all()
            else:
                taught = cache.cached(org, model) or cache.refresh(org, model)  # type: ignore[arg-type]
                assert isinstance(taught, Taught) and taught.org_id == org

    _together(work)
    assert measure.most_at_once == 1  # never two rebuilds of one organisation at once


def test_one_cache_per_runtime_whoever_asks_first(db: Database) -> None:
    for _ in range(20):
        runtime = SimpleNamespace(extras={}, db=db)
        seen: list[Any] = []

        def ask(_: int, runtime: Any = runtime, seen: list[Any] = seen) -> None:
            seen.append(learnt_cache.cache_of(runtime))

        _together(ask, threads=8)
        assert len({id(c) for c in seen}) == 1
