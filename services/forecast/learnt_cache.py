"""Each organisation's learning kept in memory for the REST forecasts, so a request reads no database.

`learning.learnt` reads the organisation's latest results and re-scores them with the champion (a query
and an ONNX pass over up to 500 rows): fine once per approval, too slow for every forecast request. This
cache keeps one `Learnt` per organisation and model version for TTL_S seconds. A result scored in this
process drops its organisation's entry once the result is committed (consumers.py), so its next forecast
learns from it; other processes of a scaled-out service see it within TTL_S.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from services.forecast import learning
from services.forecast.forecasting import TARGETS
from services.forecast.schemas import LearningOut
from shared.db import Database
from shared.onnx_model import OnnxModel
from shared.runtime import Runtime

TTL_S = 60.0  # how stale another process's results may leave an organisation's forecasts
EXTRAS_KEY = "learnt_cache"


@dataclass(frozen=True)
class _Entry:
    """Immutable and swapped in whole, so a reader without the lock never sees half of one."""

    taught: learning.Learnt
    model_version: str
    expires: float


class LearntCache:
    """Per process: organisation -> what its results taught, for the model version it was measured on.

    Shared by the request threads and the consumer: one rebuild per organisation at a time (who asks
    meanwhile waits for it and takes its answer), and a rebuild that began before its organisation's
    entry was dropped (a result committed meanwhile) answers its caller but is not kept, as it may have
    read the rows from before that result."""

    def __init__(self, db: Database, ttl_s: float = TTL_S, clock: Callable[[], float] = time.monotonic):
        self._db, self._ttl_s, self._clock = db, ttl_s, clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()  # guards the dicts below and writes to _entries
        self._rebuilding: dict[str, threading.Lock] = {}  # per organisation
        self._dropped: dict[str, int] = {}  # per organisation: how often its entry was dropped
        self._cleared = 0  # how often every entry was

    def cached(self, org_id: str, model: OnnxModel) -> learning.Learnt | None:
        """The hot path, a dict look-up: None when missing, stale or measured on another model version."""
        entry = self._entries.get(org_id)
        if entry is None or entry.model_version != model.version or entry.expires < self._clock():
            return None
        return entry.taught

    def refresh(self, org_id: str, model: OnnxModel) -> learning.Learnt:
        """Measure the organisation's learning from its results now (reads the database) and keep it;
        while another thread measures it, wait for that and take its answer."""
        with self._lock:
            rebuilding = self._rebuilding.setdefault(org_id, threading.Lock())
        with rebuilding:
            if (taught := self.cached(org_id, model)) is not None:
                return taught  # measured while this thread waited
            with self._lock:
                began = self._version(org_id)
            with self._db.transaction() as session:
                taught = learning.learnt(session, model, org_id)
            with self._lock:
                if self._version(org_id) == began:
                    self._entries[org_id] = _Entry(taught, model.version, self._clock() + self._ttl_s)
        return taught

    def _version(self, org_id: str) -> tuple[int, int]:
        """How often the organisation's entry was dropped so far (read under the lock)."""
        return self._dropped.get(org_id, 0), self._cleared

    def forget(self, org_id: str) -> None:
        with self._lock:
            self._entries.pop(org_id, None)
            self._dropped[org_id] = self._dropped.get(org_id, 0) + 1

    def forget_all(self) -> None:
        with self._lock:
            self._entries.clear()
            self._cleared += 1

    def forget_after_commit(self, session: Session, org_id: str) -> None:
        """Drop the organisation's entry once `session` commits (before, a forecast could re-read old rows)."""
        event.listen(session, "after_commit", lambda _: self.forget(org_id), once=True)


def cache_of(runtime: Runtime) -> LearntCache:
    """The process's cache, made on first use (one per runtime, like the runtime's other resources); the
    consumer and the request threads may ask first at once, and setdefault keeps only one."""
    cache = runtime.extras.get(EXTRAS_KEY)
    if cache is None:
        cache = runtime.extras.setdefault(EXTRAS_KEY, LearntCache(runtime.db))
    assert isinstance(cache, LearntCache)
    return cache


async def learnt_for(runtime: Runtime, org_id: str, model: OnnxModel) -> learning.Learnt:
    """The organisation's learning: from memory, else measured off the event loop."""
    cache = cache_of(runtime)
    if (taught := cache.cached(org_id, model)) is not None:
        return taught
    return await run_in_threadpool(cache.refresh, org_id, model)


def described(
    taught: learning.Learnt, org_id: str, creator_id: str | None, variant: str | None = None
) -> LearningOut:
    """What the answer says was applied on top of the pooled model for this organisation, creator and message
    (`learning.variant_key`)."""
    own = taught.creators.get(creator_id or "", {})
    message = taught.variants.get(variant or "", {})
    total = taught.offsets(creator_id, variant)
    return LearningOut(org_id=org_id, results=taught.results,
                       org_offset={t: round(taught.org[t], 4) for t in TARGETS},
                       creator_offset={t: round(own[t], 4) for t in TARGETS if t in own},
                       variant_offset={t: round(message[t], 4) for t in TARGETS if t in message},
                       factor={t: round(math.exp(total[t]), 3) for t in TARGETS})  # fmt: skip


def described_columns(
    taught: learning.Learnt,
    org_id: str,
    creator_ids: Sequence[str | None],
    variants: Sequence[str | None] = (),
) -> Any:
    """The columnar answer's `learning`: null for the pooled model, else the organisation's part, the named
    creators' own baselines and the named message variants' own offsets."""
    if not taught.results:
        return None

    def named(learnt: dict[str, dict[str, float]], keys: Sequence[str | None]) -> dict[str, dict[str, float]]:
        return {
            k: {t: round(v, 4) for t, v in learnt[k].items()} for k in sorted(set(learnt).intersection(keys))
        }

    return {
        **described(taught, org_id, None).model_dump(),
        "creator_offsets": named(taught.creators, creator_ids),
        "variant_offsets": named(taught.variants, variants),
    }
