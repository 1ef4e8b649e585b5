"""The fraud risk model learns from people's verdicts on anomalies: point-in-time rows, the base set,
champion/challenger, the every-N trigger and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from services.fraud import anomaly_records, retraining, training_sets
from services.fraud.anomalies import Finding, account_anomalies, campaign_anomalies
from services.fraud.features import account_features, primary_account
from services.fraud.models import FraudAnomaly
from services.fraud.schemas import AnomalyReviewIn
from services.fraud.training import MODEL_NAME, TRAINING_SET_FILE, train
from shared.bus.outbox import Outbox
from shared.bus.tables import OutboxMessage
from shared.db import Database, migrate
from shared.events import AccountStats, CampaignResultReported
from shared.model_registry import ModelRegistry
from shared.retraining import Policy, RetrainRun
from tandem import synthetic
from tandem.commands.feedback import app as feedback_app
from tests.fraud.test_anomalies import _account

REPO = Path(__file__).resolve().parents[2]
ORG = "acme"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'fraud.db'}"
    migrate(url, REPO / "services" / "fraud" / "migrations")
    database = Database(url)
    yield database
    database.close()


def _raise(
    db: Database, creator: str, findings: list[Finding], key: str, source: str = "account"
) -> list[str]:
    with db.transaction() as session:
        rows = anomaly_records.record(
            session, Outbox("fraud"), ORG, creator, findings, source=source, source_key=key
        )
        return [r.anomaly_id for r in rows]


def _review(db: Database, anomaly_id: str, verdict: str) -> None:
    with db.transaction() as session:
        body = AnomalyReviewIn(verdict=verdict, reviewer="ann@acme")  # type: ignore[arg-type]
        anomaly_records.review(session, Outbox("fraud"), ORG, anomaly_id, body)


# --- labels -> point-in-time training rows --------------------------------------------------------------


def test_labels_become_rows_with_the_account_as_it_was_when_raised(db: Database) -> None:
    spiky = _account(max_monthly_growth=0.6, engagement_rate=0.001, avg_likes=20)
    spike, low = _raise(db, "cr-a", account_anomalies(spiky), "t1")
    _review(db, spike, "confirmed")
    _review(db, low, "dismissed")  # a dismissed signal does not clear a confirmed one on the same snapshot
    [honest] = _raise(db, "cr-b", account_anomalies(_account(max_monthly_growth=0.5)), "t1")
    _review(db, honest, "dismissed")
    # Later the account looks different; an open anomaly on the new state changes no label.
    _raise(db, "cr-a", account_anomalies(_account(followers=90_000, max_monthly_growth=0.9)), "t2")
    with db.transaction() as session:
        rows = training_sets.rows(session)
    assert [(r.creator_id, r.fake, sorted(r.anomaly_ids)) for r in rows] == [
        ("cr-a", True, sorted([spike, low])),
        ("cr-b", False, [honest]),
    ]
    assert np.allclose(rows[0].features, account_features(spiky), equal_nan=True)


def test_campaign_traffic_verdicts_are_not_fraud_evidence(db: Database) -> None:
    _raise(db, "cr-c", account_anomalies(_account(max_monthly_growth=0.6)), "t1")  # open: no label
    result = CampaignResultReported(result_id="r1", campaign_id="cmp-1", creator_id="cr-c", platform="instagram",
                                    format="post", market="US", reach=1_000, engagements=10, clicks=500,
                                    conversions=0, spend_usd=100, posted_at=T0)  # fmt: skip
    ids = _raise(db, "cr-c", campaign_anomalies(result), "r1", source="campaign")
    assert ids
    for aid in ids:
        _review(db, aid, "confirmed")
    with db.transaction() as session:
        assert training_sets.rows(session) == []


def test_audience_finding_takes_the_latest_account_known_then(db: Database) -> None:
    before = _account(followers=40_000, max_monthly_growth=0.5)
    _raise(db, "cr-d", account_anomalies(before), "t1")
    [fake_followers] = _raise(db, "cr-d", [Finding("fake_followers", 0.8, [])], "sample-1", source="audience")
    [unknown] = _raise(db, "cr-e", [Finding("fake_followers", 0.8, [])], "sample-2", source="audience")
    _review(db, fake_followers, "confirmed")
    _review(db, unknown, "confirmed")  # no account stats were ever known for cr-e: cannot train
    with db.transaction() as session:
        stored = session.get(FraudAnomaly, (ORG, fake_followers))
        rows = training_sets.rows(session)
    assert stored is not None and stored.features_at is not None
    assert [(r.creator_id, r.fake) for r in rows] == [("cr-d", True)]
    assert np.allclose(rows[0].features, account_features(before), equal_nan=True)


# --- champion/challenger ------------------------------------------------------------------------------------


def _accounts(world: synthetic.World) -> list[AccountStats]:
    return [
        primary_account([AccountStats.model_validate(a) for a in c.payload["accounts"]])
        for c in world.creators
    ]


def _champion(registry: ModelRegistry, random_labels: bool) -> str:
    """A champion on 1,500 generated creators; random labels make it a weak one. Keeps its base set."""
    world = synthetic.generate_world(1500, seed=11)
    labels = [c.is_fraud for c in world.creators]
    if random_labels:
        labels = list(np.random.default_rng(0).random(len(labels)) < 0.12)
    return train(_accounts(world), labels, registry, "test world (seed 11)", "test").version


def _rows(n: int, flip_training: bool = False) -> list[training_sets.TrainingRow]:
    """Verdicts on other creators, true to the generator; `flip_training` inverts the older 80%."""
    world = synthetic.generate_world(n, seed=12)
    cut = int(n * 0.8)
    return [training_sets.TrainingRow(org_id=ORG, creator_id=c.creator_id, features_at=T0 + timedelta(minutes=i),
                                      reviewed_at=T0 + timedelta(minutes=i), features=account_features(a),
                                      fake=c.is_fraud != (flip_training and i < cut), anomaly_ids=(f"a{i}",))
            for i, (c, a) in enumerate(zip(world.creators, _accounts(world), strict=True))]  # fmt: skip


def test_better_challenger_is_promoted_and_names_the_base_set(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    weak = _champion(registry, random_labels=True)
    outcome = retraining.challenge(registry, _rows(500), Policy(min_rows=50), "t", label_weight=20)
    assert outcome.promoted is not None and outcome.challenger is not None
    assert (
        outcome.promoted.previous_version == weak
        and registry.champion_version(MODEL_NAME) == outcome.challenger.version
    )
    card = outcome.challenger.card
    verdict = card.metrics["challenge"]
    assert verdict["challenger_log_loss"] <= verdict["champion_log_loss"] * 0.98
    assert card.metrics["base_set"]["version"] == weak and card.metrics["base_set"]["rows"] == 1500
    assert (
        card.training_data.rows == 1500 + 400
        and f"base set of {MODEL_NAME} v{weak}" in card.training_data.source
    )
    assert "400 reviewed anomaly labels" in card.training_data.source and card.parent_version == weak
    # The new champion points at the same base set, so the next round does not count labels twice.
    base = retraining.base_set(registry, registry.load_champion(MODEL_NAME))
    assert base is not None and base.version == weak and len(base.y) == 1500


def test_worse_challenger_is_refused_but_kept(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    strong = _champion(registry, random_labels=False)
    outcome = retraining.challenge(registry, _rows(500, flip_training=True), Policy(min_rows=50), "t")
    assert outcome.promoted is None and outcome.challenger is not None
    assert registry.champion_version(MODEL_NAME) == strong
    verdict = registry.versions(MODEL_NAME)[-1].metrics["challenge"]
    assert verdict["wins"] is False and verdict["challenger_log_loss"] > verdict["champion_log_loss"]


def test_a_base_set_that_does_not_match_its_card_is_refused(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    version = _champion(registry, random_labels=False)
    path = registry.root / MODEL_NAME / version / TRAINING_SET_FILE
    with np.load(path) as data:
        x, y = data["x"], data["y"].copy()
    y[0] = 1 - y[0]
    np.savez_compressed(path, x=x, y=y)
    with pytest.raises(ValueError, match="does not match"):
        retraining.base_set(registry, registry.load_champion(MODEL_NAME))


def test_shipped_champion_keeps_its_base_set() -> None:
    registry = ModelRegistry(REPO / "models")
    champion = registry.load_champion(MODEL_NAME)
    base = retraining.base_set(registry, champion)  # checks the file against the card's data hash
    assert base is not None and len(base.y) == champion.card.training_data.rows


# --- trigger and CLI on a small database --------------------------------------------------------------------


def _label(db: Database, world: synthetic.World, start: int, n: int) -> None:
    """Growth-spike anomalies on generated creators, confirmed for the fraudulent ones and dismissed otherwise."""
    for c, account in list(zip(world.creators, _accounts(world), strict=True))[start : start + n]:
        [aid] = _raise(db, c.creator_id, [Finding("growth_spike", 0.5, [], account=account)], "t1")
        _review(db, aid, "confirmed" if c.is_fraud else "dismissed")


def test_trigger_retrains_after_every_n_new_labels(tmp_path: Path, db: Database) -> None:
    registry = ModelRegistry(tmp_path / "models")
    _champion(registry, random_labels=True)
    world = synthetic.generate_world(200, seed=13)
    trigger = retraining.trigger(db, Outbox("fraud"), registry, Policy(min_rows=30), label_weight=20, every=60,
                                 interval_s=60)  # fmt: skip
    _label(db, world, 0, 40)
    assert trigger.check_once() is None
    _label(db, world, 40, 30)
    outcome = trigger.check_once()
    assert outcome is not None and outcome.challenger is not None
    assert trigger.check_once() is None
    with db.transaction() as session:
        runs = session.exec(select(RetrainRun)).all()
        promoted = [m for m in session.exec(select(OutboxMessage)) if m.topic == "models.promoted.v1"]
    assert [(r.trigger, r.model_name, r.train_rows + r.holdout_rows) for r in runs] == [
        ("every_n_labels", MODEL_NAME, 70)
    ]
    assert len(promoted) == int(runs[0].promoted)


def test_cli_retrains_fraud_from_stored_labels(tmp_path: Path, db: Database) -> None:
    registry = ModelRegistry(tmp_path / "models")
    champion = _champion(registry, random_labels=True)
    _label(db, synthetic.generate_world(80, seed=14), 0, 80)
    args = [
        "retrain",
        "fraud",
        "--database-url",
        db.url,
        "--models-dir",
        str(registry.root),
        "--min-rows",
        "20",
        "--json",
    ]
    result = CliRunner().invoke(feedback_app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["model"], out["champion_before"], out["train_rows"] + out["holdout_rows"]) == (
        MODEL_NAME,
        champion,
        80,
    )
    assert "champion_log_loss" in out["report"] and out["challenger"] == str(int(champion) + 1)
