"""Months of simulated campaigns whose true dynamics differ by market (RU audiences respond less to reels):
retraining on results lowers the model's error every month, and the RU expert's adjustment beats the raw model
in the people report while an unfounded one does not."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from services.forecast import retraining
from shared.db import Database, migrate
from shared.model_registry import ModelRegistry
from tandem.feedback.simulation import simulate
from tests.feedback.conftest import REPO


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run (~20 s) shared by the assertions below."""
    tmp = tmp_path_factory.mktemp("simulation")
    url = f"sqlite:///{tmp / 'forecast.db'}"
    migrate(url, REPO / "services" / "forecast" / "migrations")
    db = Database(url)
    try:
        return simulate(db, ModelRegistry(tmp / "models"), months=4, per_month=1000,
                        policy=retraining.Policy(margin=0.01))  # fmt: skip
    finally:
        db.close()


def test_retrained_model_error_falls_month_over_month(report: dict[str, Any]) -> None:
    months = report["months"]
    evaluation = [m["eval_log_mae"] for m in months]
    assert all(later < earlier for earlier, later in itertools.pairwise(evaluation)), evaluation
    assert months[-1]["live_log_mae"] < months[0]["live_log_mae"]
    assert months[-1]["ru_reel_log_mae"] < months[0]["ru_reel_log_mae"]  # it learnt the RU market effect
    assert [m["champion"] for m in months] == ["1", "2", "3", "4"]  # one promoted challenger a month


def test_adjustment_encoding_the_market_effect_beats_the_raw_model(report: dict[str, Any]) -> None:
    rows = {(r["author"], r["market"], r["metric"]): r for r in report["adjustments"]}
    for metric in ("reach", "engagements"):
        expert = rows[("olga", "RU", metric)]
        assert expert["n"] >= 10
        assert expert["adjusted"]["mdape"] < expert["model"]["mdape"]
        assert expert["mdape_gain"] > 0
        hype = rows[("sam", "US", metric)]
        assert hype["mdape_gain"] < 0  # talking reels up without evidence made forecasts worse
