"""Faults on Apache Kafka, counted exactly: a broker restart mid-stream, a replica killed mid-stream,
a produce timeout during a broker outage, a broker that comes back without its data (then `tandem replay`).

The fraud service runs as real processes (or, for the produce timeout, its real handlers in this
process) against a broker of this module's own, which the tests stop and start again. Each test
reports its counts (shown at the end of the pytest run).
"""

from __future__ import annotations

import json
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from services.fraud.consumers import batch_handlers, handlers
from shared import topics
from shared.broker_kafka import KafkaBroker, kafka_available
from shared.bus.consumer import EventDispatcher
from shared.bus.health import BrokerProbe, BrokerWatch
from shared.bus.outbox import OutboxRelay, pending_count
from shared.bus.producer import BusProducer
from tandem import synthetic
from tandem.cli import app as cli_app
from tandem.supervisor import ServiceProcess, Suite
from tests.busutil import chosen_broker_kind, creator_messages, produce, read_topic, sql_count
from tests.fraud.conftest import fraud_runtime

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
TOTAL = 6000
# The replicas consume while the test is still producing, and two of them drained 6,000 events before
# the kill could land (CI, 3 Dec). With eight times as many, 29-41k of 48k were stored at the kill.
REPLICA_TOTAL = 8 * TOTAL
APPLIED = "SELECT count(*) FROM processed_event WHERE topic = 'catalog.creators.v1'"
FAST_WATCH = {"TANDEM_FRAUD_BROKER_CHECK_INTERVAL_S": "0.5", "TANDEM_FRAUD_LAG_INTERVAL_S": "1"}


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """Apache Kafka of this module's own: the tests stop and restart it."""
    if chosen_broker_kind() != "kafka" or not kafka_available():
        pytest.skip("broker faults are tested on Apache Kafka (needs Java and Maven or the jar cache)")
    folder = tmp_path_factory.mktemp("faults-kafka")
    broker = KafkaBroker(data_dir=folder / "data", log_path=folder / "kafka.log").start()
    yield broker
    broker.close()


def _wait(condition: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.1) -> float:
    """Seconds until `condition` held; fails the test with `what` after the timeout."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout_s, f"{what}: not after {timeout_s}s"
        time.sleep(every_s)
    return time.monotonic() - start


def _ready_status(proc: ServiceProcess) -> int:
    try:
        return httpx.get(f"{proc.url}/health/ready", timeout=2).status_code
    except httpx.HTTPError:
        return 0


def _metric(proc: ServiceProcess, name: str) -> list[tuple[dict[str, str], float]]:
    body = httpx.get(f"{proc.url}/metrics/", timeout=5).text
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name == name
    ]


def _applied_by(proc: ServiceProcess, topic: str) -> int:
    """Events this process applied from `topic` (its own counter, not the group's)."""
    return int(sum(v for labels, v in _metric(proc, "tandem_events_consumed_total")
                   if labels["topic"] == topic and labels["outcome"] == "applied"))  # fmt: skip


def _lag(proc: ServiceProcess, topic: str) -> dict[str, float]:
    """The service's own lag gauges for `topic`, partition -> messages behind."""
    return {
        labels["partition"]: v
        for labels, v in _metric(proc, "tandem_consumer_lag")
        if labels["topic"] == topic
    }


def _caught_up(proc: ServiceProcess, topic: str, timeout_s: float = 60) -> dict[str, float]:
    """Waits until the service reports zero lag on every partition of `topic`; returns the reading."""
    deadline = time.monotonic() + timeout_s
    while True:
        lag = _lag(proc, topic)
        if len(lag) == 6 and sum(lag.values()) == 0:
            return lag
        assert time.monotonic() < deadline, f"{proc.name} lag on {topic} still {lag} after {timeout_s}s"
        time.sleep(0.5)


def _published_scores(bootstrap: str, org_id: str) -> tuple[int, set[bytes], set[bytes]]:
    """Copies of this org's scores on the topic, their distinct event ids and distinct creators."""
    records = [
        r for r in read_topic(bootstrap, topics.FRAUD_SCORES, expect=10**9, timeout_s=90)
        if dict(r.headers).get("org_id") == org_id.encode()
    ]  # fmt: skip
    return len(records), {dict(r.headers)["event_id"] for r in records}, {r.key for r in records}


def _fraud_suite(kafka: KafkaBroker, url: str, workdir: Path, group: str) -> Suite:
    # Polls much smaller than the backlog (fraud's default takes 4,000): a fault lands between polls.
    env = {**FAST_WATCH, "TANDEM_FRAUD_CONSUMER_GROUP": group, "TANDEM_FRAUD_KAFKA_MAX_POLL_RECORDS": "500"}
    return Suite(bootstrap=kafka.bootstrap, workdir=workdir, database_urls={"fraud": url}, extra_env=env)


def test_broker_restart_mid_stream_loses_nothing_duplicates_nothing_and_readiness_follows(
    kafka: KafkaBroker,
    postgres_database: Callable[[str], str],
    tmp_path: Path,
    report_counts: Callable[[str], None],
) -> None:
    url = postgres_database("restart")
    suite = _fraud_suite(kafka, url, tmp_path, "tandem-fraud-restart")
    fraud = suite.add("fraud")
    fraud.start()
    fraud.wait_ready()
    scores = "SELECT count(*) FROM fraud_score WHERE org_id = 'restart-org'"
    try:
        _caught_up(fraud, topics.CATALOG_CREATORS)  # whatever earlier tests left on the topic
        applied_before = sql_count(url, APPLIED)
        produce(
            kafka.bootstrap, topics.CATALOG_CREATORS, creator_messages(200_000, TOTAL, org_id="restart-org")
        )
        _wait(lambda: sql_count(url, scores) >= TOTAL // 6, 60, "scoring did not start", every_s=0.02)
        kafka.stop()  # SIGTERM: a controlled broker shutdown in the middle of the stream
        stored_at_stop = sql_count(url, scores)
        to_503 = _wait(lambda: _ready_status(fraud) == 503, 15, "readiness stayed 200 without a broker")
        time.sleep(2)
        kafka.start(create_topics=False)  # same folder: topics, messages and committed offsets kept
        to_200 = _wait(lambda: _ready_status(fraud) == 200, 60, "readiness did not recover")
        _wait(lambda: sql_count(url, scores) >= TOTAL, 180, "the backlog did not drain after the restart")
        time.sleep(2)  # let re-deliveries land before counting
        stored = sql_count(url, scores)
        applied = sql_count(url, APPLIED) - applied_before
        copies, event_ids, creators = _published_scores(kafka.bootstrap, "restart-org")
        lag = _caught_up(fraud, topics.CATALOG_CREATORS)
        report_counts(f"broker restart: {TOTAL} sent, {stored_at_stop} stored when the broker stopped, 503 after"
              f" {to_503:.1f}s, 200 again {to_200:.1f}s after the restart; {stored} scores stored, {applied}"
              f" events applied, {copies} score messages on the topic = {len(event_ids)} distinct event ids"
              f" for {len(creators)} creators; lag per partition {lag}")  # fmt: skip
        assert 0 < stored_at_stop < TOTAL, "the restart did not land mid-stream"
        assert stored == applied == TOTAL
        assert len(event_ids) == len(creators) == TOTAL
    finally:
        suite.stop()
        if not kafka.running():
            kafka.start(create_topics=False)


def test_replica_killed_mid_stream_hands_its_partitions_to_the_other(
    kafka: KafkaBroker,
    postgres_database: Callable[[str], str],
    tmp_path: Path,
    report_counts: Callable[[str], None],
) -> None:
    url = postgres_database("replicas")
    suite = _fraud_suite(kafka, url, tmp_path, "tandem-fraud-replicas")
    first, second = suite.add("fraud"), suite.add("fraud", replica=2)
    scores = "SELECT count(*) FROM fraud_score WHERE org_id = 'replica-org'"
    try:
        for proc in (first, second):
            proc.start()
        for proc in (first, second):
            proc.wait_ready()
        # Both members in the group (three partitions each) and past what earlier tests left.
        _caught_up(second, topics.CATALOG_CREATORS)
        applied_before = sql_count(url, APPLIED)
        first_before = _applied_by(first, topics.CATALOG_CREATORS)
        second_before = _applied_by(second, topics.CATALOG_CREATORS)
        produce(
            kafka.bootstrap,
            topics.CATALOG_CREATORS,
            creator_messages(300_000, REPLICA_TOTAL, org_id="replica-org"),
        )
        _wait(lambda: sql_count(url, scores) >= REPLICA_TOTAL // 6, 60, "scoring did not start", every_s=0.02)
        first_applied = _applied_by(first, topics.CATALOG_CREATORS) - first_before
        first.kill()  # SIGKILL: no leave-group, no final commit; the group notices after the session timeout
        stored_at_kill = sql_count(url, scores)
        drained = _wait(
            lambda: sql_count(url, scores) >= REPLICA_TOTAL, 180, "the other replica did not take over"
        )
        time.sleep(2)
        stored = sql_count(url, scores)
        applied = sql_count(url, APPLIED) - applied_before
        lag = _caught_up(second, topics.CATALOG_CREATORS)
        second_applied = _applied_by(second, topics.CATALOG_CREATORS) - second_before
        report_counts(f"replica killed: {REPLICA_TOTAL} sent, {stored_at_kill} stored when one of two replicas was killed"
              f" (it had applied {first_applied}); the other applied {second_applied} and drained the rest"
              f" in {drained:.1f}s: {stored} scores stored, {applied} events applied once; lag per"
              f" partition {lag}")  # fmt: skip
        assert 0 < stored_at_kill < REPLICA_TOTAL, "the kill did not land mid-stream"
        assert first_applied > 0, "the killed replica had no partitions: nothing was handed over"
        # Whatever was not stored when the first replica died was applied by the survivor. (Not
        # `REPLICA_TOTAL - first_applied`: that figure is scraped just before the kill, and the first replica goes on
        # applying until the signal lands, hundreds of events on a loaded machine.)
        assert second_applied >= REPLICA_TOTAL - stored_at_kill
        assert stored == applied == REPLICA_TOTAL
    finally:
        suite.stop()


def _read_new(
    bootstrap: str, topic: str, since: dict[TopicPartition, int], expect: int
) -> list[ConsumerRecord]:
    """The records appended to `topic` after the offsets `since` (no group)."""
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], enable_auto_commit=False, fetch_max_wait_ms=100)
    consumer.assign(list(since))
    for tp, offset in since.items():
        consumer.seek(tp, offset)
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + 30
    while len(records) < expect and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
    consumer.close()
    return records


def test_produce_timeout_during_an_outage_goes_through_the_outbox_and_arrives_once_back(
    kafka: KafkaBroker, tmp_path: Path, report_counts: Callable[[str], None]
) -> None:
    total = 300
    parts = [TopicPartition(topics.CATALOG_CREATORS, p) for p in range(6)]
    probe = KafkaConsumer(bootstrap_servers=[kafka.bootstrap])
    start = probe.end_offsets(parts)
    probe.close()
    produce(kafka.bootstrap, topics.CATALOG_CREATORS, creator_messages(400_000, total, org_id="outage-org"))
    records = _read_new(kafka.bootstrap, topics.CATALOG_CREATORS, start, total)
    assert len(records) == total

    runtime = fraud_runtime(tmp_path)
    producer = BusProducer(kafka.bootstrap, "fraud-outage", max_block_ms=3000)
    dispatcher = EventDispatcher(runtime.db, handlers(runtime), producer, "fraud", retries=1, backoff_s=0,
                                 batch_handlers=batch_handlers(runtime))  # fmt: skip
    relay = OutboxRelay(runtime.db, producer, runtime.outbox, "fraud", poll_interval=0.05)
    # As in a service (Runtime.broker_back): the broker's return ends the relay's back-off.
    probe = BrokerProbe(kafka.bootstrap, {topics.FRAUD_SCORES})
    watch = BrokerWatch("fraud-outage", probe, check_interval_s=0.2, on_back=relay.retry_now)
    watch.start()
    try:
        kafka.stop()  # the poll is in hand, the broker goes away: publishing its scores times out
        _wait(lambda: not watch.reachable, 5, "the watch still sees the broker")
        began = time.monotonic()
        outcomes = dispatcher.apply_many(records)
        timed_out_after = time.monotonic() - began
        staged = pending_count(runtime.db)
        relay.start()  # the service's relay: it fails and retries while the broker is away
        time.sleep(2)
        kafka.start(create_topics=False)
        _wait(lambda: watch.reachable, 10, "the watch did not see the broker back")
        back = time.monotonic()
        _wait(lambda: pending_count(runtime.db) == 0, 120, "the outbox did not drain")
        relayed, relay_s = staged - pending_count(runtime.db), time.monotonic() - back
        copies, event_ids, creators = _published_scores(kafka.bootstrap, "outage-org")
        report_counts(f"produce timeout: {total} events in hand when the broker stopped; publishing timed out after"
              f" {timed_out_after:.0f}s, the poll was applied one by one ({Counter(o for _, o in outcomes)}),"
              f" {staged} scores staged in the outbox, {relayed} relayed by the outbox relay within {relay_s:.1f}s"
              f" of the broker's return;"
              f" {copies} score messages on the topic = {len(event_ids)} distinct event ids for"
              f" {len(creators)} creators")  # fmt: skip
        assert {o for _, o in outcomes} == {"applied"}
        assert staged == relayed == total
        assert len(event_ids) == len(creators) == total
    finally:
        if relay.is_alive():
            relay.stop()
        watch.stop()
        producer.close()
        runtime.db.close()
        if not kafka.running():
            kafka.start(create_topics=False)


def _post(proc: ServiceProcess, path: str, body: dict[str, Any], org: str) -> dict[str, Any]:
    r = httpx.post(f"{proc.url}{path}", json=body, headers={"X-Org-Id": org}, timeout=120)
    assert r.status_code < 300, f"{path}: {r.status_code} {r.text[:300]}"
    answer: dict[str, Any] = r.json()
    return answer


def _replay(service: str, proc: ServiceProcess, org: str) -> dict[str, Any]:
    """`tandem replay SERVICE --json`, as an operator runs it."""
    result = CliRunner().invoke(cli_app, ["replay", service, "--url", proc.url, "--org", org, "--json"])
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.output)
    return answer


def test_broker_restart_without_its_data_every_service_publishes_again_and_replay_restores_every_score(
    kafka: KafkaBroker,
    postgres_database: Callable[[str], str],
    tmp_path: Path,
    report_counts: Callable[[str], None],
) -> None:
    """The broker comes back empty (as tansu always does): topics, messages, offsets and producer ids gone.
    Events it had acknowledged but fraud had not consumed are lost; the services notice, re-create the
    topics, rebuild their producers and publish again by themselves; `tandem replay` brings back the rest."""
    org, (a, b, c) = "lost-org", (300, 200, 100)
    creators = synthetic.generate_world(a + b + c, seed=15).payloads()
    urls = {"discovery": postgres_database("lost_discovery"), "fraud": postgres_database("lost_fraud")}
    env = {f"TANDEM_{s.upper()}_{k}": v for s in urls for k, v in
           {"BROKER_CHECK_INTERVAL_S": "0.5", "LAG_INTERVAL_S": "1", "CONSUMER_GROUP": f"tandem-{s}-lost"}.items()}  # fmt: skip
    suite = Suite(bootstrap=kafka.bootstrap, workdir=tmp_path, database_urls=urls, extra_env=env)
    discovery, fraud = suite.add("discovery"), suite.add("fraud")
    scores = f"SELECT count(*) FROM fraud_score WHERE org_id = '{org}'"
    seen = f"SELECT count(*) FROM creator WHERE org_id = '{org}' AND fraud_scored_at IS NOT NULL"
    applied = "SELECT count(*) FROM processed_event WHERE topic = 'catalog.creators.v1'"
    unsent = "SELECT count(*) FROM outbox_message WHERE published_at IS NULL"
    try:
        for proc in (discovery, fraud):
            proc.start()
        for proc in (discovery, fraud):
            proc.wait_ready()
        _post(discovery, "/v1/creators/bulk", {"creators": creators[:a]}, org)
        _wait(lambda: sql_count(urls["discovery"], seen) == a, 120, "the first creators were not scored")
        # Fraud frozen: discovery's next creators reach the broker, acknowledged, and nobody reads them.
        assert fraud.proc is not None
        fraud.proc.send_signal(signal.SIGSTOP)
        _post(discovery, "/v1/creators/bulk", {"creators": creators[a : a + b]}, org)
        _wait(lambda: sql_count(urls["discovery"], unsent) == 0, 60, "discovery did not publish them")
        kafka.stop()
        shutil.rmtree(kafka.data_dir / "store")  # the broker comes back without any of its data
        fraud.proc.send_signal(signal.SIGCONT)
        both = (discovery, fraud)
        to_503 = _wait(lambda: all(_ready_status(p) == 503 for p in both), 20, "readiness stayed 200")
        kafka.start(create_topics=False)  # the services re-create the topics themselves
        to_200 = _wait(lambda: all(_ready_status(p) == 200 for p in both), 90, "readiness did not recover")
        # Without a restart: discovery publishes creators, fraud consumes them and publishes scores.
        _post(discovery, "/v1/creators/bulk", {"creators": creators[a + b :]}, org)
        back = _wait(
            lambda: sql_count(urls["discovery"], seen) == a + c, 120, "no event flowed after the restart"
        )
        time.sleep(2)
        lost = (a + b + c) - sql_count(urls["fraud"], scores)
        applied_before = sql_count(urls["fraud"], applied)
        catalogue = _replay("discovery", discovery, org)
        _wait(
            lambda: sql_count(urls["fraud"], scores) == a + b + c,
            120,
            "the replayed creators were not scored",
        )
        time.sleep(2)  # re-deliveries and the replay's duplicates land before counting
        newly_applied = sql_count(urls["fraud"], applied) - applied_before
        fraud_replay = _replay("fraud", fraud, org)
        _wait(
            lambda: sql_count(urls["discovery"], seen) == a + b + c, 60, "discovery did not get every score"
        )
        time.sleep(2)
        stored, downstream = sql_count(urls["fraud"], scores), sql_count(urls["discovery"], seen)
        distinct = sql_count(urls["discovery"], f"SELECT count(DISTINCT creator_id) FROM creator WHERE org_id = '{org}'"
                             " AND fraud_scored_at IS NOT NULL")  # fmt: skip
        report_counts(f"broker lost its data: {a} creators scored before, {b} published while fraud was frozen, the"
                      f" broker wiped; 503 after {to_503:.1f}s, 200 again {to_200:.1f}s after the restart (topics"
                      f" re-created by the services); {c} new creators scored {back:.1f}s later without a service"
                      f" restart; {lost} creators without a score; `tandem replay discovery` re-published"
                      f" {catalogue['republished']}, fraud applied {newly_applied} of them (the rest skipped by"
                      f" event id); `tandem replay fraud` re-published {fraud_replay['republished']}; {stored} scores"
                      f" in fraud, {downstream} creators with a score in discovery ({distinct} distinct)")  # fmt: skip
        assert lost == b
        assert catalogue["republished"] == fraud_replay["republished"] == a + b + c
        # Fraud had consumed a + c of the re-published events under the same ids: only the lost b applied.
        assert newly_applied == b
        assert stored == downstream == distinct == a + b + c
    finally:
        if fraud.proc is not None and fraud.proc.poll() is None:
            fraud.proc.send_signal(signal.SIGCONT)
        suite.stop()
        if not kafka.running():
            kafka.start()
