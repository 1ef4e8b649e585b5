"""A discovery API on a migrated database with the ranking champion, as the route tests drive it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.discovery import api, consumers
from services.discovery.config import DiscoverySettings
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.errors import install_error_handlers
from shared.events import Event, wrap
from shared.model_registry import ModelRegistry
from shared.onnx_model import ModelSlot
from shared.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]


def discovery_runtime(url: str) -> Runtime:
    migrate(url, REPO / "services" / "discovery" / "migrations")
    model = ModelRegistry(REPO / "models").load_champion("ranking")
    return Runtime(settings=DiscoverySettings(), db=Database(url), outbox=Outbox("discovery"),
                   models={"ranking": ModelSlot(model)})  # fmt: skip


def discovery_client(runtime: Runtime) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(api.router)
    app.state.runtime = runtime
    return TestClient(app)


def deliver(runtime: Runtime, event: Event, producer: str = "fraud", org_id: str = "demo") -> None:
    """Hand `event` to discovery's handler for its type, in one transaction, as the consumer does."""
    envelope = wrap(event, producer=producer, correlation_id="c", org_id=org_id)
    with runtime.db.transaction() as session:
        consumers.handlers(runtime)[event.event_type](session, event, envelope)
