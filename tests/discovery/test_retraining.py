"""The ranking model learns from its own shortlists' outcomes: point-in-time rows, champion/challenger,
the every-N trigger and `tandem train ranking --from-results`."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from services.discovery import catalog, consumers, matching, outcomes, retraining, training_sets
from services.discovery.config import DiscoverySettings
from services.discovery.features import FEATURES, feature_row, fit
from services.discovery.models import Creator, RankingOutcome
from services.discovery.schemas import BriefIn, CreatorIn
from services.discovery.training import MODEL_NAME, Outcome, train
from shared.bus.outbox import Outbox
from shared.bus.tables import OutboxMessage
from shared.db import Database, migrate
from shared.events import FraudScored, RelationshipUpdated, wrap
from shared.model_registry import ModelRegistry
from shared.onnx_model import ModelSlot
from shared.retraining import Policy, RetrainRun
from shared.runtime import Runtime
from tandem import synthetic
from tandem.cli import app as cli_app

REPO = Path(__file__).resolve().parents[2]
ORG = "acme"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
ALL_PLATFORMS = ["instagram", "tiktok", "youtube", "vk", "telegram"]


# --- champion/challenger on generated outcomes ---------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> synthetic.World:
    return synthetic.generate_world(1200, seed=21)


def _history(
    world: synthetic.World, campaigns: int, seed: int
) -> list[tuple[BriefIn, CreatorIn, float, bool, int]]:
    """Past collaborations with the generator's hidden success rule: brief, creator, fraud risk, success, group."""
    out = []
    for i, row in enumerate(synthetic.past_campaigns(world, campaigns, 20, seed=seed)):
        creator = row["creator"]
        risk = 0.8 if creator.is_fraud else 0.1
        out.append((BriefIn.model_validate(row["brief"]), CreatorIn.model_validate(creator.payload), risk,
                    bool(row["success"]), i // 20))  # fmt: skip
    return out


def _champion(registry: ModelRegistry, world: synthetic.World, campaigns: int, scramble: bool) -> str:
    """A champion trained on generated campaigns; scrambled labels make it a weak one."""
    history = _history(world, campaigns, seed=31)
    labels = [h[3] for h in history]
    if scramble:
        labels = list(np.random.default_rng(0).permutation(labels))
    items = [Outcome(brief=b, creator=c, fraud_risk=r, success=s) for (b, c, r, _, _), s in zip(history, labels, strict=True)]  # fmt: skip
    return train(items, [h[4] for h in history], registry, "test world", "test").version


def _rows(
    world: synthetic.World, campaigns: int, scramble_training: bool = False
) -> list[training_sets.TrainingRow]:
    history = _history(world, campaigns, seed=41)
    labels = [h[3] for h in history]
    if scramble_training:  # the older 80%'s labels shuffled: a challenger fitted on them learns noise
        cut = int(len(labels) * 0.8)
        labels = list(np.random.default_rng(1).permutation(labels[:cut])) + labels[cut:]
    return [training_sets.TrainingRow(org_id=ORG, campaign_id=f"c{g}", creator_id=c.creator_id,
                                      recorded_at=T0 + timedelta(minutes=i), model_version="1",
                                      features=feature_row(b, fit(b, c, 20), r), success=bool(s))
            for i, ((b, c, r, _, g), s) in enumerate(zip(history, labels, strict=True))]  # fmt: skip


def test_better_challenger_is_promoted_with_card_and_lineage(tmp_path: Path, world: synthetic.World) -> None:
    registry = ModelRegistry(tmp_path / "models")
    weak = _champion(registry, world, 30, scramble=True)
    outcome = retraining.challenge(registry, _rows(world, 75), Policy(margin=0.02, min_rows=200), "t")
    assert outcome.challenger is not None and outcome.promoted is not None
    assert (outcome.promoted.model_name, outcome.promoted.previous_version) == (MODEL_NAME, weak)
    assert registry.champion_version(MODEL_NAME) == outcome.challenger.version
    card = outcome.challenger.card
    verdict = card.metrics["challenge"]
    assert verdict["challenger_log_loss"] <= verdict["champion_log_loss"] * 0.98
    assert {"roc_auc", "log_loss"} <= set(card.metrics["holdout"]) and "precision_at_5" in card.metrics[
        "holdout"
    ]
    assert card.metrics["holdout_rows"] == 300 and card.training_data.rows == 1200
    assert card.parent_version == weak and len(card.training_data.sha256) == 64
    assert card.features == FEATURES and card.drift_reference is not None
    assert outcome.run.promoted and outcome.run.report == verdict


def test_worse_challenger_is_refused_but_kept(tmp_path: Path, world: synthetic.World) -> None:
    registry = ModelRegistry(tmp_path / "models")
    strong = _champion(registry, world, 300, scramble=False)
    outcome = retraining.challenge(registry, _rows(world, 75, scramble_training=True), Policy(), "t")
    assert outcome.promoted is None and outcome.challenger is not None
    assert registry.champion_version(MODEL_NAME) == strong
    verdict = registry.versions(MODEL_NAME)[-1].metrics["challenge"]
    assert verdict["wins"] is False
    assert verdict["challenger_log_loss"] > verdict["champion_log_loss"]


def test_too_few_outcomes_train_nothing(tmp_path: Path, world: synthetic.World) -> None:
    registry = ModelRegistry(tmp_path / "models")
    _champion(registry, world, 20, scramble=False)
    outcome = retraining.challenge(registry, _rows(world, 5), Policy(min_rows=200), "t")
    assert (outcome.challenger, outcome.promoted) == (None, None)
    assert outcome.run.report == {"skipped": "100 outcomes, fewer than min_rows=200"}


# --- point in time: shortlists and outcomes through the real service code ------------------------------


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    """The shipped ranking champion in a scratch registry, so challengers never touch models/."""
    shutil.copytree(REPO / "models" / MODEL_NAME, tmp_path / "models" / MODEL_NAME)
    return ModelRegistry(tmp_path / "models")


@pytest.fixture
def runtime(tmp_path: Path, registry: ModelRegistry) -> Iterator[Runtime]:
    url = f"sqlite:///{tmp_path / 'discovery.db'}"
    migrate(url, REPO / "services" / "discovery" / "migrations")
    rt = Runtime(settings=DiscoverySettings(data_dir=tmp_path, ranking_success_at=1.0), db=Database(url),
                 outbox=Outbox("discovery"), models={MODEL_NAME: ModelSlot(registry.load_champion(MODEL_NAME))})  # fmt: skip
    payloads = [p for p in synthetic.generate_world(250, seed=5).payloads()]
    with rt.db.transaction() as session:
        catalog.upsert_creators(session, ORG, [CreatorIn.model_validate(p) for p in payloads], rt.outbox)
    yield rt
    rt.db.close()


def _brief(market: str, **overrides: Any) -> BriefIn:
    fields = {"name": f"brief {market}", "category": "beauty", "target_markets": [market],
              "platforms": ALL_PLATFORMS, "budget_usd": 20_000, "min_target_share": 0.05}  # fmt: skip
    return BriefIn.model_validate({**fields, **overrides})


def _shortlist(rt: Runtime, brief: BriefIn, size: int = 10) -> matching.ShortlistResult:
    with rt.db.transaction() as session:
        return matching.build_shortlist(session, ORG, brief, rt.model(MODEL_NAME).current, rt.outbox, owner="tester", size=size,
                                        pool=1000, max_market_share=0.6)  # fmt: skip


def _report(
    rt: Runtime, campaign_id: str, creator_id: str, ratio: float | None, at: datetime | None = None
) -> None:
    """A RelationshipUpdated from review, through the service's own handler."""
    event = RelationshipUpdated(creator_id=creator_id, campaign_id=campaign_id, status="completed",
                                outcome_vs_forecast=ratio, updated_at=at or datetime.now(UTC))  # fmt: skip
    with rt.db.transaction() as session:
        consumers.handlers(rt)[event.event_type](session, event, wrap(event, producer="review", correlation_id="c",
                                                                      org_id=ORG))  # fmt: skip


def test_training_row_is_the_row_scored_at_shortlist_time_not_the_catalogue_now(runtime: Runtime) -> None:
    result = _shortlist(runtime, _brief("US"))
    entry = result.event.entries[0]
    cid = entry.creator.creator_id
    _report(runtime, result.campaign.campaign_id, cid, 1.4)
    with runtime.db.transaction() as session:
        before = training_sets.rows(session)
    assert [(r.creator_id, r.success) for r in before] == [(cid, True)]
    model = runtime.model(MODEL_NAME).current
    x = np.array([before[0].features], dtype=np.float32)
    assert float(model.run("model", x)[0]) == pytest.approx(
        entry.match_score, abs=1e-4
    )  # exactly what was ranked

    # Afterwards the creator grows, moves audience to another market, raises prices and is fraud-scored.
    with runtime.db.transaction() as session:
        stored = session.get(Creator, (ORG, cid))
        assert stored is not None
        payload = CreatorIn.model_validate(stored.profile)
        changed = payload.model_copy(update={
            "price_usd": (payload.price_usd or 100.0) * 7,
            "accounts": [a.model_copy(update={"followers": a.followers * 20}) for a in payload.accounts],
            "audience": [m.model_copy(update={"market": "BR" if m.market == "US" else m.market})
                         for m in payload.audience],
        })  # fmt: skip
        catalog.upsert_creators(session, ORG, [changed], runtime.outbox)
        catalog.apply_fraud_score(session, ORG, FraudScored(creator_id=cid, risk=0.9, level="high", reasons=[],
                                                            model_name="fraud_risk", model_version="1",
                                                            scored_at=datetime.now(UTC)))  # fmt: skip
    brief = BriefIn.model_validate(result.campaign.brief)
    now = feature_row(brief, fit(brief, changed, 10), 0.9)
    assert not np.allclose(np.nan_to_num(now), np.nan_to_num(before[0].features))  # the catalogue did change
    with runtime.db.transaction() as session:
        after = training_sets.rows(session)
    assert np.array_equal(np.array(after[0].features), np.array(before[0].features), equal_nan=True)
    assert after[0].model_version == model.version


def test_outcomes_are_kept_only_for_shortlisted_creators_newest_wins(runtime: Runtime) -> None:
    result = _shortlist(runtime, _brief("RU", category="food"))
    campaign, first = result.campaign.campaign_id, result.event.entries[0].creator.creator_id
    late = datetime.now(UTC) + timedelta(hours=1)
    _report(runtime, campaign, first, 0.7, at=late)
    _report(runtime, campaign, first, 1.6, at=late - timedelta(minutes=5))  # older update arriving late
    _report(runtime, campaign, "not-shortlisted", 2.0)
    _report(runtime, "cmp-elsewhere", first, 2.0)
    _report(runtime, campaign, result.event.entries[1].creator.creator_id, None)  # no figure yet
    with runtime.db.transaction() as session:
        stored = session.exec(select(RankingOutcome)).all()
    assert [(o.creator_id, o.outcome_vs_forecast, o.success) for o in stored] == [(first, 0.7, False)]


def test_success_threshold_is_a_setting(runtime: Runtime) -> None:
    result = _shortlist(runtime, _brief("BR"))
    event = RelationshipUpdated(creator_id=result.event.entries[0].creator.creator_id,
                                campaign_id=result.campaign.campaign_id, status="completed",
                                outcome_vs_forecast=0.9, updated_at=datetime.now(UTC))  # fmt: skip
    with runtime.db.transaction() as session:
        assert outcomes.record_outcome(session, ORG, event, success_at=0.8)
        assert session.exec(select(RankingOutcome)).one().success is True


def test_missing_features_survive_the_json_round_trip() -> None:
    row = [0.5, float("nan"), 1.0]
    assert outcomes.encode(row) == [0.5, None, 1.0]
    back = outcomes.decode(outcomes.encode(row))
    assert back[0] == 0.5 and math.isnan(back[1])


def _seed_outcomes(rt: Runtime, markets: list[str], size: int = 10) -> int:
    """Shortlists for a few briefs and an outcome for every entry (about a third above forecast)."""
    n = 0
    rng = np.random.default_rng(3)
    for market in markets:
        result = _shortlist(rt, _brief(market), size=size)
        for e in result.event.entries:
            _report(rt, result.campaign.campaign_id, e.creator.creator_id, float(rng.choice([0.6, 0.9, 1.3])))
            n += 1
    return n


def test_trigger_retrains_after_every_n_new_outcomes(runtime: Runtime, registry: ModelRegistry) -> None:
    trigger = retraining.trigger(
        runtime.db, runtime.outbox, registry, Policy(min_rows=20), every=40, interval_s=60
    )
    first = _seed_outcomes(runtime, ["US", "GB", "RU"])
    assert 20 <= first < 40
    assert trigger.check_once() is None
    _seed_outcomes(runtime, ["BR", "IN"])
    outcome = trigger.check_once()
    assert outcome is not None and outcome.challenger is not None
    assert trigger.check_once() is None  # the count restarts after a run
    with runtime.db.transaction() as session:
        runs = session.exec(select(RetrainRun)).all()
        promoted = [m for m in session.exec(select(OutboxMessage)) if m.topic == "models.promoted.v1"]
    assert [(r.trigger, r.model_name, r.challenger_version) for r in runs] == [
        ("every_n_outcomes", MODEL_NAME, outcome.challenger.version)
    ]
    with runtime.db.transaction() as session:
        assert runs[0].train_rows + runs[0].holdout_rows == len(training_sets.rows(session))
    assert len(promoted) == int(runs[0].promoted)
    assert registry.versions(MODEL_NAME)[-1].version == outcome.challenger.version


def test_cli_train_ranking_from_results(runtime: Runtime, registry: ModelRegistry) -> None:
    n = _seed_outcomes(runtime, ["US", "GB", "RU"])
    args = ["train", "ranking", "--from-results", "--database-url", runtime.db.url, "--models-dir",
            str(registry.root), "--min-rows", "10", "--json"]  # fmt: skip
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["model"], out["champion_before"]) == (MODEL_NAME, "1")
    assert out["train_rows"] + out["holdout_rows"] == n and out["challenger"] == "2"
    assert "champion_log_loss" in out["report"] and isinstance(out["promoted"], bool)
