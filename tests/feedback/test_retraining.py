"""Champion/challenger: a better challenger is promoted and announced, a worse one kept but refused, and
rollback and the model watcher move every serving process without a restart."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlmodel import select
from typer.testing import CliRunner

from services.forecast import retraining, training_sets
from services.forecast.models import RetrainRun
from services.forecast.training import MODEL_NAME
from shared import retraining as shared_retraining
from shared.bus.outbox import Outbox, OutboxMessage
from shared.db import Database
from shared.model_registry import ModelRegistry, ModelWatcher
from shared.onnx_model import ModelSlot, OnnxModel
from tandem import synthetic
from tandem.commands.feedback import app as feedback_app
from tandem.commands.models import app as models_app
from tandem.feedback import simulation

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _rows(world: synthetic.World, n: int, scramble_training: bool = False) -> list[training_sets.TrainingRow]:
    rng = np.random.default_rng(9)
    posts = simulation.sample_posts(world, rng, n, month=0)
    actual = [simulation.truth(rng, p) for p in posts]
    if scramble_training:  # targets of the older 80% shuffled: a challenger fitted on them learns noise
        cut = int(n * 0.8)
        order = rng.permutation(cut)
        actual = [actual[i] for i in order] + actual[cut:]
    return [training_sets.TrainingRow(result_id=f"r-{i}", forecast_id=f"fc-{i}", org_id="acme",
                                      decided_at=T0, received_at=T0 + timedelta(minutes=i), content=p.content,
                                      actuals={"reach": a[0], "engagements": a[1]})
            for i, (p, a) in enumerate(zip(posts, actual, strict=True))]  # fmt: skip


def test_worse_challenger_is_refused_but_kept(
    registry: ModelRegistry, world: synthetic.World, weak_champion: OnnxModel
) -> None:
    outcome = retraining.challenge(
        registry, _rows(world, 1000, scramble_training=True), retraining.Policy(), "t"
    )
    assert outcome.promoted is None
    assert registry.champion_version(MODEL_NAME) == weak_champion.version
    assert outcome.challenger is not None
    card = registry.versions(MODEL_NAME)[-1]
    assert card.version == outcome.challenger.version
    verdict = card.metrics["challenge"]
    assert verdict["wins"] is False
    assert verdict["challenger_log_mae"] > verdict["champion_log_mae"]
    assert card.parent_version == weak_champion.version
    assert len(card.training_data.sha256) == 64 and card.training_data.rows == 800
    assert card.drift_reference is not None


def test_better_challenger_is_promoted_with_lineage(
    registry: ModelRegistry, world: synthetic.World, weak_champion: OnnxModel
) -> None:
    outcome = retraining.challenge(registry, _rows(world, 1500), retraining.Policy(margin=0.02), "t")
    assert outcome.promoted is not None and outcome.challenger is not None
    assert (outcome.promoted.model_version, outcome.promoted.previous_version) == (
        outcome.challenger.version,
        weak_champion.version,
    )
    assert registry.champion_version(MODEL_NAME) == outcome.challenger.version
    assert outcome.run.report["challenger_log_mae"] <= outcome.run.report["champion_log_mae"] * 0.98


class _NarrowIntervals(retraining.ForecastContest):
    """A challenger with the real median heads but p10 = p90 = p50: the same error, intervals that hold
    almost nothing."""

    def fit(self) -> shared_retraining.Challenger:
        fitted = super().fit()
        heads = {name: fitted.heads[name.rsplit("_", 1)[0] + "_p50"] for name in fitted.heads}
        return dataclasses.replace(fitted, heads=heads)


def test_challenger_with_better_error_but_low_coverage_is_refused(
    registry: ModelRegistry, world: synthetic.World, weak_champion: OnnxModel
) -> None:
    rows = _rows(world, 1500)
    policy = retraining.Policy(margin=0.02)
    outcome = shared_retraining.challenge(
        registry, retraining.SPEC, len(rows), lambda cut: _NarrowIntervals(rows, cut), policy, "t"
    )
    assert outcome.promoted is None
    assert registry.champion_version(MODEL_NAME) == weak_champion.version
    verdict = outcome.run.report
    assert verdict["checks"]["error"]["passed"] is True  # it does beat the champion on error...
    assert verdict["challenger_log_mae"] <= verdict["champion_log_mae"] * 0.98
    coverage = verdict["checks"]["coverage80"]
    assert coverage["passed"] is False  # ...but its intervals would mislead people
    judged = [s for s in coverage["segments"].values() if s["judged"]]
    assert judged and all(s["coverage80"] < 0.75 for s in judged)
    assert verdict["verdict"].startswith("refused: 80% interval coverage outside 75%-85% on ")
    assert "log_mae" not in verdict["verdict"]


def test_coverage_check_names_the_failed_segment_and_pools_small_ones() -> None:
    policy = retraining.Policy(min_segment_rows=50)
    counts = {"instagram/reach": (80, 100), "tiktok/reach": (58, 100), "vk/reach": (5, 20),
              "youtube/reach": (20, 35), "telegram/reach": (72, 100)}  # fmt: skip
    check = shared_retraining.coverage_check(counts, policy)
    # vk (20 rows) and youtube (35) are too few alone: judged together, 25 of 55 inside.
    assert [f.split(" (")[0] for f in check["failed"]] == ["other/reach 45%", "tiktok/reach 58%"]
    segments = check["segments"]
    assert (segments["other/reach"]["rows"], segments["other/reach"]["passed"]) == (55, False)
    assert segments["tiktok/reach"]["interval95"][1] < 0.75
    # 72% of 100 is within sampling error of the band: not refused.
    assert segments["telegram/reach"]["passed"] is True
    few = shared_retraining.coverage_check({"vk/reach": (5, 20)}, policy)
    assert few["passed"] is True and few["segments"]["other/reach"]["judged"] is False


def test_too_few_results_train_nothing(
    registry: ModelRegistry, world: synthetic.World, weak_champion: OnnxModel
) -> None:
    outcome = retraining.challenge(registry, _rows(world, 50), retraining.Policy(min_rows=200), "t")
    assert (outcome.challenger, outcome.promoted) == (None, None)
    assert [c.version for c in registry.versions(MODEL_NAME)] == [weak_champion.version]


def test_rollback_restores_previous_and_watcher_swaps_without_restart(
    registry: ModelRegistry, world: synthetic.World, weak_champion: OnnxModel
) -> None:
    slot = ModelSlot(registry.load_champion(MODEL_NAME))
    watcher = ModelWatcher(registry, {MODEL_NAME: slot})
    x = np.zeros((1, len(weak_champion.card.features)), dtype=np.float32)
    before = float(slot.current.run("reach_p50", x)[0])
    outcome = retraining.challenge(registry, _rows(world, 1500), retraining.Policy(), "t")
    assert outcome.challenger is not None
    assert watcher.check_once() == [MODEL_NAME]
    assert slot.current.version == outcome.challenger.version
    assert float(slot.current.run("reach_p50", x)[0]) != before  # the new graph answers
    result = CliRunner().invoke(models_app, ["rollback", MODEL_NAME, "--models-dir", str(registry.root)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["champion"] == weak_champion.version
    assert watcher.check_once() == [MODEL_NAME]
    assert slot.current.version == weak_champion.version
    assert float(slot.current.run("reach_p50", x)[0]) == before


def _seed_results(
    db: Database, registry: ModelRegistry, world: synthetic.World, n: int, month: int = 0
) -> None:
    rng = np.random.default_rng(4 + month)
    posts = simulation.sample_posts(world, rng, n, month=month)
    actual = [simulation.truth(rng, p) for p in posts]
    champion = registry.load_champion(MODEL_NAME)
    simulation.record_month(db, Outbox("forecast"), champion, posts, actual, month)


def test_trigger_retrains_every_n_results_and_announces_promotion(
    db: Database, registry: ModelRegistry, world: synthetic.World, weak_champion: OnnxModel
) -> None:
    trigger = retraining.RetrainTrigger(db, Outbox("forecast"), registry, retraining.Policy(), every=1200,
                                        interval_s=60, opted_in=[simulation.ORG])  # fmt: skip
    _seed_results(db, registry, world, 1100)
    assert trigger.check_once() is None  # 1,100 new results < 1,200
    _seed_results(db, registry, world, 400, month=1)
    outcome = trigger.check_once()
    assert outcome is not None and outcome.promoted is not None
    assert trigger.check_once() is None  # the counter restarts after a run
    with db.transaction() as session:
        runs = session.exec(select(RetrainRun)).all()
        staged = [
            json.loads(m.value)
            for m in session.exec(select(OutboxMessage))
            if m.topic == "models.promoted.v1"
        ]
    assert [(r.trigger, r.promoted) for r in runs] == [("every_n_results", True)]
    assert [s["payload"]["model_version"] for s in staged] == [outcome.promoted.model_version]


def test_cli_retrain_reports_the_challenge(
    db: Database, registry: ModelRegistry, world: synthetic.World, weak_champion: OnnxModel
) -> None:
    _seed_results(db, registry, world, 1500)
    result = CliRunner().invoke(feedback_app, ["retrain", "--database-url", db.url,
                                               "--models-dir", str(registry.root), "--json"],
                                env={"TANDEM_FORECAST_SHARED_LEARNING_ORGS": json.dumps([simulation.ORG])})  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["champion_before"], out["promoted"]) == (weak_champion.version, True)
    assert out["train_rows"] + out["holdout_rows"] == 1500
