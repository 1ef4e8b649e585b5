"""In keys mode the key decides the organisation; without a valid key the call is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from shared.db import Database, migrate
from shared.errors import install_error_handlers
from shared.identity.keys import KeyStore, Principal
from shared.orgs import OrgDep, require_role
from shared.runtime import IDENTITY_MIGRATIONS, Runtime
from shared.settings import ServiceSettings


def _client(tmp_path: Path, mode: str) -> tuple[TestClient, KeyStore]:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    store = KeyStore(Database(url), cache_ttl_s=0)
    settings = ServiceSettings(service_name="t", auth_mode=mode, data_dir=tmp_path)
    app = FastAPI()
    install_error_handlers(app)
    app.state.runtime = Runtime(settings=settings, db=Database(url), outbox=None, keys=store)  # type: ignore[arg-type]

    @app.get("/whoami")
    def whoami(org_id: OrgDep) -> dict[str, str]:
        return {"org_id": org_id}

    @app.post("/admin-only")
    def admin_only(p: Principal = Depends(require_role("strategist"))) -> dict[str, str]:
        return {"role": p.role}

    return TestClient(app), store


def test_keys_mode_takes_the_org_from_the_key_not_the_header(tmp_path: Path) -> None:
    client, store = _client(tmp_path, "keys")
    token = store.issue("acme", "strategist", "t")
    r = client.get("/whoami", headers={"X-API-Key": token, "X-Org-Id": "someone-else"})
    assert r.json() == {"org_id": "acme"}
    assert client.get("/whoami", headers={"Authorization": f"Bearer {token}"}).json() == {"org_id": "acme"}


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "tdm_nope.nope"}, {"Authorization": "Basic abc"}])
def test_keys_mode_refuses_missing_or_bad_keys_with_401(tmp_path: Path, headers: dict[str, str]) -> None:
    client, _ = _client(tmp_path, "keys")
    r = client.get("/whoami", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"


def test_role_outside_the_allowed_ones_gets_403(tmp_path: Path) -> None:
    client, store = _client(tmp_path, "keys")
    partner = store.issue("acme", "partner", "p")
    strategist = store.issue("acme", "strategist", "s")
    assert client.post("/admin-only", headers={"X-API-Key": partner}).status_code == 403
    assert client.post("/admin-only", headers={"X-API-Key": strategist}).status_code == 200


def test_open_mode_uses_the_org_header_or_the_default(tmp_path: Path) -> None:
    client, _ = _client(tmp_path, "open")
    assert client.get("/whoami", headers={"X-Org-Id": "acme"}).json() == {"org_id": "acme"}
    assert client.get("/whoami").json() == {"org_id": "demo"}
