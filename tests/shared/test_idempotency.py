"""Idempotency-Key: a retried POST creates once and gets the first answer back."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.db import Database, migrate
from shared.errors import install_error_handlers
from shared.idempotency import IdempotencyMiddleware, IdempotencyStore
from shared.runtime import IDENTITY_MIGRATIONS


class Thing(BaseModel):
    name: str


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    app.state.runtime = SimpleNamespace(idempotency=IdempotencyStore(Database(url)))
    counter = itertools.count(1)
    app.state.created = []

    @app.post("/things", status_code=201)
    def create(thing: Thing) -> dict[str, object]:
        n = next(counter)
        app.state.created.append(n)
        return {"id": n, "name": thing.name}

    @app.post("/boom")
    def boom() -> None:
        raise RuntimeError("server error")

    return TestClient(app, raise_server_exceptions=False)


def test_retry_with_the_same_key_creates_once_and_replays(client: TestClient) -> None:
    h = {"Idempotency-Key": "k-1", "X-Org-Id": "acme"}
    first = client.post("/things", json={"name": "a"}, headers=h)
    again = client.post("/things", json={"name": "a"}, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"id": 1, "name": "a"}
    assert again.headers["idempotent-replayed"] == "true"
    assert client.app.state.created == [1]  # type: ignore[attr-defined]


def test_same_key_with_another_body_is_refused(client: TestClient) -> None:
    h = {"Idempotency-Key": "k-2"}
    client.post("/things", json={"name": "a"}, headers=h)
    r = client.post("/things", json={"name": "b"}, headers=h)
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency_key_reused"


def test_keys_are_per_caller(client: TestClient) -> None:
    client.post("/things", json={"name": "a"}, headers={"Idempotency-Key": "k-3", "X-Org-Id": "acme"})
    r = client.post("/things", json={"name": "a"}, headers={"Idempotency-Key": "k-3", "X-Org-Id": "other"})
    assert r.json()["id"] == 2


def test_without_a_key_every_post_creates(client: TestClient) -> None:
    client.post("/things", json={"name": "a"})
    client.post("/things", json={"name": "a"})
    assert client.app.state.created == [1, 2]  # type: ignore[attr-defined]


def test_server_errors_are_not_stored_so_a_retry_runs_again(client: TestClient) -> None:
    h = {"Idempotency-Key": "k-4"}
    assert client.post("/boom", headers=h).status_code == 500
    r = client.post("/boom", headers=h)
    assert r.status_code == 500
    assert "idempotent-replayed" not in r.headers
