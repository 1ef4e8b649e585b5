"""The forecast service itself: results scored in its database trigger a retrain, and the running process
serves the promoted version without a restart (its ModelWatcher swaps it), naming it in every forecast."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from services.forecast.app import build
from services.forecast.config import ForecastSettings
from shared.bus.outbox import Outbox
from shared.model_registry import ModelRegistry
from shared.onnx_model import OnnxModel
from shared.runtime import Runtime
from tandem import synthetic
from tandem.feedback import simulation
from tests.feedback.conftest import REPO

BODY = {"followers": 40_000, "engagement_rate": 0.03, "platform": "instagram", "format": "reel", "market": "RU",
        "market_share": 0.6}  # fmt: skip


def test_service_retrains_on_results_and_hot_swaps_without_restart(
    tmp_path: Path, registry: ModelRegistry, world: synthetic.World, weak_champion: OnnxModel
) -> None:
    shutil.copytree(REPO / "models" / "page_posts", registry.root / "page_posts")
    settings = ForecastSettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'svc.db'}",
                                kafka_bootstrap="127.0.0.1:1", consumer_enabled=False, models_dir=registry.root,
                                model_watch_interval_s=0.1, retrain_every_results=1000,
                                retrain_check_interval_s=0.1, shared_learning_orgs=[simulation.ORG])  # fmt: skip
    with TestClient(build(settings)) as client:
        before = client.post("/v1/forecasts/predict", json=BODY).json()
        assert before["model_version"] == weak_champion.version
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        rng = np.random.default_rng(2)
        posts = simulation.sample_posts(world, rng, 1500, month=0)
        actual = [simulation.truth(rng, p) for p in posts]
        simulation.record_month(runtime.db, Outbox("forecast"), weak_champion, posts, actual, month=0)
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline and runtime.model("forecast").current.version == weak_champion.version
        ):
            time.sleep(0.1)
        after = client.post("/v1/forecasts/predict", json=BODY).json()
    assert after["model_version"] != weak_champion.version
    assert registry.champion_version("forecast") == after["model_version"]
    assert after["metrics"][0]["p50"] != before["metrics"][0]["p50"]
