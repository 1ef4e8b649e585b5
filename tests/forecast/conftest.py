"""Fixtures of the forecast tests: the forecast routes on a migrated SQLite database and the shipped model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.forecast import api
from services.forecast.campaigns import api as campaigns_api
from services.forecast.config import ForecastSettings
from services.forecast.experiments import api as experiments_api
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.errors import install_error_handlers
from shared.model_registry import ModelRegistry
from shared.onnx_model import ModelSlot
from shared.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    url = f"sqlite:///{tmp_path / 'forecast.db'}"
    migrate(url, REPO / "services" / "forecast" / "migrations")
    registry = ModelRegistry(REPO / "models")
    models = {name: ModelSlot(registry.load_champion(name)) for name in ("forecast", "page_posts")}
    rt = Runtime(settings=ForecastSettings(), db=Database(url), outbox=Outbox("forecast"), models=models)
    yield rt
    rt.db.close()


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(experiments_api.router)
    app.include_router(campaigns_api.router)
    app.state.runtime = runtime
    return TestClient(app)
