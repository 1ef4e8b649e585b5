"""Fixtures of the fraud tests: the fraud routes on a migrated SQLite database and the shipped models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.fraud import api
from services.fraud.config import FraudSettings
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.errors import install_error_handlers
from shared.fastlane import ServiceApp
from shared.model_registry import ModelRegistry
from shared.onnx_model import ModelSlot
from shared.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]


def fraud_runtime(folder: Path) -> Runtime:
    """A fraud runtime on its own migrated SQLite database in `folder`, without a bus."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'fraud.db'}"
    migrate(url, REPO / "services" / "fraud" / "migrations")
    registry = ModelRegistry(REPO / "models")
    models = {name: ModelSlot(registry.load_champion(name)) for name in ("fraud_risk", "fake_account")}
    return Runtime(
        settings=FraudSettings(data_dir=folder), db=Database(url), outbox=Outbox("fraud"), models=models
    )


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = fraud_runtime(tmp_path)
    yield rt
    rt.db.close()


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    # The service's own app class, so single scores take the fast lane as in production.
    app = ServiceApp()
    install_error_handlers(app)
    app.include_router(api.router)
    app.add_fast_route("fraud", "/v1/fraud/score", api.score_one_fast)
    app.state.runtime = runtime
    return TestClient(app)
