"""A discovery API on a migrated database with the ranking champion, as the route tests drive it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.discovery import api, consumers
from services.discovery.config import DiscoverySettings
from services.discovery.importing import read_ranking_file
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.errors import install_error_handlers
from shared.events import Event, wrap
from shared.model_registry import ModelRegistry
from shared.onnx_model import ModelSlot
from shared.runtime import Runtime
from tests.conftest import SHARED_DATA

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


def ranking_client(db_dir: Path, stamps: tuple[str, ...], top: int | None = None) -> Iterator[TestClient]:
    """A client over the 2022 ranking files of these months ('2022-11', 'undated', ...) imported in that
    order (the first `top` rows of each file when given); a clear skip when the data is absent."""
    if not SHARED_DATA.exists():
        pytest.skip(f"needs the team's data sets at {SHARED_DATA} (absent in a fresh clone)")
    runtime = discovery_runtime(f"sqlite:///{db_dir / 'discovery.db'}")
    client = discovery_client(runtime)
    folder = SHARED_DATA / "social_media_influencers_2022"
    for stamp in stamps:
        for platform in ("instagram", "youtube", "tiktok"):
            creators = read_ranking_file(folder / f"{platform}_{stamp}.csv").creators[:top]
            body = [x.model_dump(mode="json") for x in creators]
            for start in range(0, len(body), 2000):
                response = client.post("/v1/creators/bulk", json={"creators": body[start : start + 2000]})
                assert response.status_code == 200, response.text
    yield client
    runtime.db.close()


def deliver(runtime: Runtime, event: Event, producer: str = "fraud", org_id: str = "demo") -> None:
    """Hand `event` to discovery's handler for its type, in one transaction, as the consumer does."""
    envelope = wrap(event, producer=producer, correlation_id="c", org_id=org_id)
    with runtime.db.transaction() as session:
        consumers.handlers(runtime)[event.event_type](session, event, envelope)
