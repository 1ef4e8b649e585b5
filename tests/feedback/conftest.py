"""Fixtures of the feedback tests: a migrated forecast database and a scratch model registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from services.forecast.training import MODEL_NAME
from shared.db import Database, migrate
from shared.model_registry import ModelRegistry
from shared.onnx_model import OnnxModel
from tandem import synthetic
from tandem.feedback import simulation

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'forecast.db'}"
    migrate(url, REPO / "services" / "forecast" / "migrations")
    database = Database(url)
    yield database
    database.close()


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models")


@pytest.fixture(scope="session")
def world() -> synthetic.World:
    return synthetic.generate_world(1500, seed=3)


@pytest.fixture
def weak_champion(registry: ModelRegistry, world: synthetic.World) -> OnnxModel:
    """A champion trained on 300 posts outside RU/KZ: easy to beat with real results."""
    model = simulation.initial_champion(registry, world, np.random.default_rng(1), 300)
    assert registry.champion_version(MODEL_NAME) == model.version
    return model
