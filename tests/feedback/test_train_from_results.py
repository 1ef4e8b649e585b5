"""`tandem train MODEL --from-results` and the shared champion/challenger round's edges."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from services.forecast.training import MODEL_NAME
from shared import retraining
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.model_registry import ModelRegistry
from shared.onnx_model import OnnxModel
from tandem import synthetic
from tandem.cli import app as cli_app
from tandem.feedback import simulation


def _seed(db: Database, registry: ModelRegistry, world: synthetic.World, n: int) -> None:
    rng = np.random.default_rng(4)
    posts = simulation.sample_posts(world, rng, n, month=0)
    actual = [simulation.truth(rng, p) for p in posts]
    simulation.record_month(db, Outbox("forecast"), registry.load_champion(MODEL_NAME), posts, actual, 0)


def test_train_forecast_from_results_prints_the_verdict(
    db: Database, registry: ModelRegistry, world: synthetic.World, weak_champion: OnnxModel
) -> None:
    _seed(db, registry, world, 300)
    args = ["train", "forecast", "--from-results", "--database-url", db.url, "--models-dir", str(registry.root),
            "--min-rows", "100", "--holdout-share", "0.25", "--json"]  # fmt: skip
    opted_in = {"TANDEM_FORECAST_SHARED_LEARNING_ORGS": json.dumps([simulation.ORG])}
    result = CliRunner().invoke(cli_app, args, env=opted_in)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["model"], out["champion_before"]) == (MODEL_NAME, weak_champion.version)
    assert (out["train_rows"], out["holdout_rows"]) == (225, 75)
    assert (
        "champion_log_mae" in out["report"] and out["challenger"] == registry.versions(MODEL_NAME)[-1].version
    )


def test_train_from_results_refuses_an_unknown_model(registry: ModelRegistry) -> None:
    args = ["train", "fake_account", "--from-results", "--models-dir", str(registry.root)]
    result = CliRunner().invoke(cli_app, args, env={"COLUMNS": "250"})  # wide enough for one line
    assert result.exit_code == 2 and "choose one of ranking, forecast, fraud" in result.output


class _OneClass:
    """A contest whose rows cannot train a classifier."""

    def fit(self) -> retraining.Challenger:
        raise retraining.NotTrainable("all 8 training rows have the same label")

    def loss(self, model: OnnxModel) -> float:
        return 1.0

    def holdout(self, model: OnnxModel) -> dict[str, Any]:
        return {}


def test_untrainable_rows_skip_the_round_and_register_nothing(
    registry: ModelRegistry, weak_champion: OnnxModel
) -> None:
    spec = retraining.Spec(model_name=MODEL_NAME, loss_name="loss", unit="rows")
    outcome = retraining.challenge(
        registry, spec, 10, lambda cut: _OneClass(), retraining.Policy(min_rows=5), "t"
    )
    assert (outcome.challenger, outcome.promoted) == (None, None)
    assert outcome.run.report == {"skipped": "all 8 training rows have the same label"}
    assert [c.version for c in registry.versions(MODEL_NAME)] == [weak_champion.version]


@pytest.mark.parametrize(("n", "share", "cut"), [(10, 0.2, 8), (3, 0.1, 2), (1000, 0.25, 750)])
def test_split_holds_out_the_most_recent_share_and_at_least_one(n: int, share: float, cut: int) -> None:
    assert retraining.split(n, share) == cut
