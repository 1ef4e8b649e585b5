"""Review tasks on SQLite: routing into tasks, idempotent decisions, org scoping and campaign summaries."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from pydantic import ValidationError
from sqlmodel import select

from services.review import anomalies, consumers, decisions, relationships, tasks
from services.review.config import ReviewSettings
from services.review.models import ReviewDecision, ReviewTask
from services.review.routing import Policy
from services.review.schemas import DecisionIn, RelationshipIn
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.errors import Conflict, NotFound
from shared.events import (
    AnomalyDetected,
    AnomalyReviewed,
    EnvelopeMeta,
    Event,
    ReviewDecided,
    ReviewRequested,
    ShortlistEntry,
    ShortlistPublished,
)
from shared.runtime import Runtime
from tests.review import helpers

REPO = Path(__file__).resolve().parents[2]
ORG = helpers.ORG
NO_AUDIT = Policy(auto_approve_min_match=0.85, auto_approve_max_fraud=0.25, auto_reject_min_fraud=0.7,
                  audit_sample_rate=0.0)  # fmt: skip
ALL_AUDITED = Policy(0.85, 0.25, 0.7, audit_sample_rate=1.0)


@pytest.fixture(autouse=True)
def team(db: Database) -> None:
    helpers.add_reviewer(db, "ann")
    helpers.add_reviewer(db, "bob", markets=["GB"])  # every US task goes to ann


def _shortlist(tier: str = "volume", campaign_id: str = "cmp-1") -> ShortlistPublished:
    entries = [
        helpers.entry(1, "cr-confident", 0.9, 0.1),  # auto approve
        helpers.entry(2, "cr-fraud", 0.9, 0.9),  # auto reject
        helpers.entry(3, "cr-unsure", 0.5, 0.1),  # human
        helpers.entry(4, "cr-unscored", 0.9, None),  # human
    ]
    return helpers.shortlist(entries, tier, campaign_id)


def _create(
    db: Database, outbox: Outbox, policy: Policy = NO_AUDIT, tier: str = "volume"
) -> list[ReviewTask]:
    with db.transaction() as session:
        plan = helpers.plan(policy, strategic_reviewers=1)
        return tasks.create_tasks(session, ORG, _shortlist(tier), plan, outbox)


def _events(db: Database) -> list[Event]:
    return helpers.events(db)


def _task_for(created: list[ReviewTask], creator_id: str, kind: str = "human") -> str:
    return next(t.task_id for t in created if t.creator_id == creator_id and t.route == kind)


def _decide(
    db: Database, outbox: Outbox, task_id: str, body: DecisionIn, org_id: str = ORG
) -> tuple[str, bool]:
    with db.transaction() as session:
        out, created = decisions.decide(session, org_id, task_id, body, outbox)
        return out.decision_id, created


def test_create_tasks_routes_each_finalist(db: Database, outbox: Outbox) -> None:
    created = _create(db, outbox)
    routes = {t.creator_id: (t.route, t.status) for t in created}
    assert routes == {
        "cr-confident": ("auto", "decided"),
        "cr-fraud": ("auto", "decided"),
        "cr-unsure": ("human", "open"),
        "cr-unscored": ("human", "open"),
    }
    events = _events(db)
    decided = {e.creator.creator_id: e.decision for e in events if isinstance(e, ReviewDecided)}
    assert decided == {"cr-confident": "approve", "cr-fraud": "reject"}
    assert all(
        e.automated and e.decided_by == tasks.AUTO_REVIEWER for e in events if isinstance(e, ReviewDecided)
    )
    requested = sorted(e.creator_id for e in events if isinstance(e, ReviewRequested))
    assert requested == ["cr-unscored", "cr-unsure"]


def test_create_tasks_strategic_sends_everyone_to_people(db: Database, outbox: Outbox) -> None:
    created = _create(db, outbox, tier="strategic")
    assert {t.route for t in created} == {"human"}
    assert not any(isinstance(e, ReviewDecided) for e in _events(db))


def test_create_tasks_audits_sampled_auto_decisions(db: Database, outbox: Outbox) -> None:
    created = _create(db, outbox, policy=ALL_AUDITED)
    audits = sorted(t.creator_id for t in created if t.route == "audit")
    assert audits == ["cr-confident", "cr-fraud"]
    reasons = {t.route_reason for t in created if t.route == "audit"}
    assert reasons == {"audit sample of an auto-approve", "audit sample of an auto-reject"}
    assert sum(isinstance(e, ReviewRequested) for e in _events(db)) == 4


def test_campaign_summary_counts_routes_and_decisions(db: Database, outbox: Outbox) -> None:
    _create(db, outbox, policy=ALL_AUDITED)
    with db.transaction() as session:
        summary = tasks.campaign_summary(session, ORG, "cmp-1")
    assert (summary.tasks, summary.auto_decided, summary.sent_to_people, summary.audits) == (6, 2, 2, 2)
    assert summary.open == 4
    assert summary.decisions == {"approve": 1, "reject": 1}


def test_campaign_summary_follows_human_decisions(db: Database, outbox: Outbox) -> None:
    created = _create(db, outbox)
    _decide(db, outbox, _task_for(created, "cr-unsure"), DecisionIn(reviewer="ann", decision="approve"))
    with db.transaction() as session:
        summary = tasks.campaign_summary(session, ORG, "cmp-1")
    assert summary.open == 1
    assert summary.decisions == {"approve": 2, "reject": 1}


def test_campaign_summary_unknown_or_foreign_campaign_is_not_found(db: Database, outbox: Outbox) -> None:
    _create(db, outbox)
    with db.transaction() as session:
        with pytest.raises(NotFound):
            tasks.campaign_summary(session, ORG, "cmp-nope")
        with pytest.raises(NotFound):
            tasks.campaign_summary(session, "other-org", "cmp-1")


def test_decide_same_decision_twice_is_applied_once(db: Database, outbox: Outbox) -> None:
    task_id = _task_for(_create(db, outbox), "cr-unsure")
    body = DecisionIn(reviewer="ann", decision="approve", notes="good fit")
    first_id, first_created = _decide(db, outbox, task_id, body)
    second_id, second_created = _decide(db, outbox, task_id, body)
    assert (first_created, second_created) == (True, False)
    assert first_id == second_id
    with db.transaction() as session:
        rows = list(session.exec(select(ReviewDecision).where(ReviewDecision.task_id == task_id)))
        task = session.get(ReviewTask, task_id)
    assert len(rows) == 1
    assert (rows[0].decided_by, rows[0].automated, rows[0].notes) == ("ann", False, "good fit")
    assert task is not None and task.status == "decided"
    human = [e for e in _events(db) if isinstance(e, ReviewDecided) and e.task_id == task_id]
    assert len(human) == 1
    assert (human[0].decision, human[0].automated, human[0].creator.creator_id) == (
        "approve",
        False,
        "cr-unsure",
    )


def test_decide_different_decision_conflicts(db: Database, outbox: Outbox) -> None:
    task_id = _task_for(_create(db, outbox), "cr-unsure")
    _decide(db, outbox, task_id, DecisionIn(reviewer="ann", decision="approve"))
    with pytest.raises(Conflict, match="already decided \\(approve by ann\\)"):
        _decide(db, outbox, task_id, DecisionIn(reviewer="ann", decision="reject"))
    with pytest.raises(Conflict):
        _decide(db, outbox, task_id, DecisionIn(reviewer="bob", decision="approve"))


def test_decide_auto_decided_task_conflicts(db: Database, outbox: Outbox) -> None:
    task_id = _task_for(_create(db, outbox), "cr-fraud", kind="auto")
    with pytest.raises(Conflict, match="policy:auto"):
        _decide(db, outbox, task_id, DecisionIn(reviewer="ann", decision="approve"))


def test_decide_wrong_org_is_not_found(db: Database, outbox: Outbox) -> None:
    task_id = _task_for(_create(db, outbox), "cr-unsure")
    with pytest.raises(NotFound) as exc:
        _decide(db, outbox, task_id, DecisionIn(reviewer="ann", decision="approve"), org_id="other-org")
    assert exc.value.errors == [{"field": "task_id", "reason": f"no review task {task_id!r}"}]
    with db.transaction() as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None and task.status == "open"


def test_decide_unknown_task_is_not_found(db: Database, outbox: Outbox) -> None:
    with pytest.raises(NotFound):
        _decide(db, outbox, "task-missing", DecisionIn(reviewer="ann", decision="approve"))


def test_decide_needs_info_keeps_question_in_notes(db: Database, outbox: Outbox) -> None:
    task_id = _task_for(_create(db, outbox), "cr-unscored")
    body = DecisionIn(reviewer="ann", decision="needs_info", notes="maybe", question="audience age?")
    _decide(db, outbox, task_id, body)
    with db.transaction() as session:
        row = session.exec(select(ReviewDecision).where(ReviewDecision.task_id == task_id)).one()
    assert row.notes == "maybe\nquestion: audience age?"


def test_decision_needs_info_requires_question() -> None:
    with pytest.raises(ValidationError, match="question"):
        DecisionIn(reviewer="ann", decision="needs_info")


def test_get_task_includes_decision_and_list_filters_by_status(db: Database, outbox: Outbox) -> None:
    created = _create(db, outbox)
    task_id = _task_for(created, "cr-unsure")
    _decide(db, outbox, task_id, DecisionIn(reviewer="ann", decision="reject"))
    with db.transaction() as session:
        out = tasks.get_task(session, ORG, task_id)
        open_tasks = tasks.list_tasks(session, ORG, "cmp-1", "open", limit=50)
        foreign = tasks.list_tasks(session, "other-org", None, None, limit=50)
    assert out.decision is not None
    assert (out.decision.decision, out.decision.decided_by) == ("reject", "ann")
    assert [t.creator_id for t in open_tasks] == ["cr-unscored"]
    assert foreign == []


def _volume_entries() -> list[ShortlistEntry]:
    """20 finalists: 12 confident, 3 fraudulent, 5 uncertain."""
    confident = [helpers.entry(i + 1, f"cr-ok-{i}", 0.9, 0.05) for i in range(12)]
    fraud = [helpers.entry(13 + i, f"cr-bad-{i}", 0.9, 0.9) for i in range(3)]
    unsure = [helpers.entry(16 + i, f"cr-maybe-{i}", 0.6, 0.3) for i in range(5)]
    return confident + fraud + unsure


def test_volume_campaign_auto_decides_queues_and_audits_the_requested_share(
    db: Database, outbox: Outbox
) -> None:
    policy = Policy(0.85, 0.25, 0.7, audit_sample_rate=0.2)
    created = helpers.create(db, outbox, helpers.shortlist(_volume_entries()), policy)
    routes = Counter(t.route for t in created)
    assert routes == {"auto": 15, "human": 5, "audit": 3}  # 20% of 15 auto-decisions
    assert {t.creator_id for t in created if t.route == "human"} == {f"cr-maybe-{i}" for i in range(5)}
    auto_ids = {t.creator_id for t in created if t.route == "auto"}
    assert {t.creator_id for t in created if t.route == "audit"} <= auto_ids


def test_volume_audit_sample_is_the_same_for_the_same_input(tmp_path: Path, outbox: Outbox) -> None:
    picks = []
    for run in range(2):
        url = f"sqlite:///{tmp_path / f'run{run}.db'}"
        migrate(url, REPO / "services" / "review" / "migrations")
        database = Database(url)
        created = helpers.create(
            database, outbox, helpers.shortlist(_volume_entries()), Policy(0.85, 0.25, 0.7, 0.2)
        )
        picks.append(sorted(t.creator_id for t in created if t.route == "audit"))
        database.close()
    assert picks[0] == picks[1] and len(picks[0]) == 3


def test_volume_first_time_creators_go_to_people_when_the_policy_says_so(
    db: Database, outbox: Outbox
) -> None:
    with db.transaction() as session:
        relationships.record(
            session, ORG, "cr-ok-0", RelationshipIn(status="completed", author="ann"), outbox
        )
    policy = Policy(0.85, 0.25, 0.7, audit_sample_rate=0.0, first_time_to_people=True)
    entries = [helpers.entry(1, "cr-ok-0", 0.9, 0.05), helpers.entry(2, "cr-new", 0.9, 0.05)]
    created = helpers.create(db, outbox, helpers.shortlist(entries), policy)
    routes = {t.creator_id: (t.route, t.route_reason) for t in created}
    assert routes["cr-ok-0"][0] == "auto"
    assert routes["cr-new"] == (
        "human",
        "low confidence: first-time creator: no history with us, so a person approves",
    )


def test_create_tasks_assigns_people_by_market_and_spreads_the_load(db: Database, outbox: Outbox) -> None:
    helpers.add_reviewer(db, "cid", markets=["US"], capacity=2)
    entries = [helpers.entry(i + 1, f"cr-{i}", 0.5, 0.1) for i in range(6)]
    created = helpers.create(db, outbox, helpers.shortlist(entries), NO_AUDIT)
    with db.transaction() as session:
        owners = Counter(tasks.task_out(session, t).assignees[0] for t in created)
    # bob covers GB only. Load is relative to capacity: one task fills half of cid's day but only 2% of
    # ann's, so after one each, ann takes the rest.
    assert owners == {"ann": 5, "cid": 1}


def test_low_confidence_creators_are_never_decided_by_the_policy(db: Database, outbox: Outbox) -> None:
    """Each finalist below would be auto-approved (or auto-rejected) on its scores alone; doubts about
    the data behind the scores send every one of them to people, with the reason."""
    now = datetime.now(UTC)
    thin = helpers.entry(1, "cr-thin", 0.95, 0.05).model_copy(
        update={"confidence_notes": ["audience country known for only 20% of followers"]}
    )
    thin_risky = helpers.entry(2, "cr-thin-risky", 0.5, 0.9).model_copy(
        update={"confidence_notes": ["audience country known for only 10% of followers"]}
    )
    rescored_late = helpers.entry(3, "cr-stale", 0.95, 0.05).model_copy(
        update={"fraud_scored_at": now - timedelta(days=2), "data_as_of": now - timedelta(days=1)}
    )
    old_score = helpers.entry(4, "cr-old", 0.95, 0.05).model_copy(
        update={"fraud_scored_at": now - timedelta(days=45), "data_as_of": now - timedelta(days=60)}
    )
    flagged = helpers.entry(5, "cr-anomaly", 0.95, 0.05)
    with db.transaction() as session:
        anomalies.on_detected(session, ORG, AnomalyDetected(anomaly_id="an-1", creator_id="cr-anomaly",
                              kind="growth_spike", severity=0.8, reasons=[], detected_at=now))  # fmt: skip
    confident = helpers.entry(6, "cr-sure", 0.95, 0.05)
    entries = [thin, thin_risky, rescored_late, old_score, flagged, confident]
    created = helpers.create(db, outbox, helpers.shortlist(entries), NO_AUDIT)
    routes = {t.creator_id: (t.route, t.route_reason) for t in created}
    assert routes.pop("cr-sure")[0] == "auto"
    assert {cid: route for cid, (route, _) in routes.items()} == dict.fromkeys(routes, "human")
    assert routes["cr-thin"][1] == "low confidence: audience country known for only 20% of followers"
    assert (
        "stale fraud check: scored" in routes["cr-stale"][1]
        and "before the data changed" in routes["cr-stale"][1]
    )
    assert routes["cr-old"][1] == "low confidence: stale fraud check: scored 45 days ago"
    assert routes["cr-anomaly"][1] == "low confidence: 1 open fraud anomaly not yet reviewed"
    with db.transaction() as session:  # a verdict closes the anomaly: the next shortlist may auto-decide
        anomalies.on_reviewed(session, ORG, AnomalyReviewed(anomaly_id="an-1", creator_id="cr-anomaly",
                              kind="growth_spike", verdict="dismissed", reviewer="ann", reviewed_at=now))  # fmt: skip
    again = helpers.create(db, outbox, helpers.shortlist([flagged], campaign_id="cmp-2"), NO_AUDIT)
    assert again[0].route == "auto"


def test_review_follows_anomalies_and_verdicts_from_the_bus(
    db: Database, outbox: Outbox, tmp_path: Path
) -> None:
    settings = ReviewSettings(data_dir=tmp_path, consumer_enabled=False)
    handle = consumers.handlers(cast(Runtime, SimpleNamespace(settings=settings, outbox=outbox)))
    now = datetime.now(UTC)
    detected = AnomalyDetected(anomaly_id="an-9", creator_id="cr-9", kind="engagement_drop", severity=0.5,
                               reasons=[], detected_at=now)  # fmt: skip
    verdict = AnomalyReviewed(anomaly_id="an-9", creator_id="cr-9", kind="engagement_drop", verdict="confirmed",
                              reviewer="ana", reviewed_at=now)  # fmt: skip
    for event in (detected, detected, verdict):  # a re-delivery is a no-op
        meta = EnvelopeMeta(type=event.event_type, schema_version=1, producer="fraud", correlation_id="c",
                            org_id=ORG, key="cr-9")  # fmt: skip
        with db.transaction() as session:
            handle[event.event_type](session, event, meta)
            if event is detected:
                assert anomalies.open_counts(session, ORG, ["cr-9"]) == {"cr-9": 1}
    with db.transaction() as session:
        assert anomalies.open_counts(session, ORG, ["cr-9"]) == {}
