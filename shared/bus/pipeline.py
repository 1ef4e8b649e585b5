"""Overlap one poll's storing and publishing with the next poll's parsing and preparing.

A consumer's poll spends much of its time waiting: on PostgreSQL (the batch's writes, the commit's WAL
flush) and on the broker (the published events' acks). Meanwhile the consumer thread could already parse
and score the next poll. So a worker thread finishes poll N (`EventDispatcher.finish`: one transaction,
outputs acknowledged before the commit) while the consumer thread prepares poll N+1; N+1 goes to the
worker only once N is finished, and only then are N's offsets committed (by the consumer thread, the only
one that touches the KafkaConsumer). So at most one poll is in flight, polls are stored in order, and a
crash at any point re-delivers everything not yet stored and acknowledged.

One more ordering rule: if poll N failed and went one by one after N+1 was prepared, N+1 is prepared
again, so that what it derives from its events (a score's `scored_at`, which consumers use to keep the
newest) comes after what N's retry derived.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from shared.collector import collector_paused

if TYPE_CHECKING:  # shared.bus.consumer runs the pipeline
    from shared.bus.consumer import EventDispatcher, PollWork

Batch = dict[TopicPartition, list[ConsumerRecord]]


@dataclass(frozen=True)
class Finished:
    """A poll whose every record is stored or dead-lettered: its offsets may be committed."""

    batch: Batch
    outcomes: list[tuple[ConsumerRecord, str]]
    fell_back: bool


@dataclass(frozen=True)
class _InFlight:
    batch: Batch
    work: PollWork
    future: Future[list[tuple[ConsumerRecord, str]]]


class Pipeline:
    """Prepares polls on the caller's thread and finishes them, one at a time, on a worker thread."""

    def __init__(self, dispatcher: EventDispatcher, name: str) -> None:
        self.dispatcher = dispatcher
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-finisher")
        self._in_flight: _InFlight | None = None

    def submit(self, batch: Batch) -> list[Finished]:
        """Prepare a poll and hand it to the worker; returns the polls finished meanwhile, oldest first.

        Raises what finishing the poll in flight raised (a database outage): its offsets stay
        uncommitted and this poll is dropped, so both are re-read.
        """
        finished: list[Finished] = []
        records = [record for records in batch.values() for record in records]
        in_flight = self._in_flight.work.event_ids() if self._in_flight else frozenset()
        # The collector is paused meanwhile (shared.collector): the poll's events hold no cycles.
        with collector_paused():
            work = self.dispatcher.prepare(records, lambda: finished.extend(self.wait()), in_flight)
        late = self.wait()
        if any(f.fell_back for f in late):
            with collector_paused():
                self.dispatcher.prepare_batches(work)
        self._in_flight = _InFlight(batch, work, self._worker.submit(self._finish, work))
        return finished + late

    def _finish(self, work: PollWork) -> list[tuple[ConsumerRecord, str]]:
        with collector_paused():
            return self.dispatcher.finish(work)

    def done(self) -> list[Finished]:
        """The poll in flight if it has finished by now; never waits."""
        if self._in_flight is None or not self._in_flight.future.done():
            return []
        return self.wait()

    def wait(self) -> list[Finished]:
        """Wait for the poll in flight (if any) and return it; raises what finishing it raised."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is None:
            return []
        outcomes = in_flight.future.result()
        return [Finished(in_flight.batch, outcomes, in_flight.work.fell_back)]

    def abandon(self) -> None:
        """Let the poll in flight end (its transaction commits or rolls back), keeping nothing of it: its
        offsets are not committed, so it is re-read, and the ledger skips what it stored."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.future.exception()  # waits; the loop has logged or will log the cause

    def close(self) -> None:
        self.abandon()
        self._worker.shutdown(wait=True)
