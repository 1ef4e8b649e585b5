"""`tandem discovery import`: into the running service over REST by default, or straight into a database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from services.discovery import api
from services.discovery.config import DiscoverySettings
from shared.broker import free_port
from shared.bus.outbox import Outbox
from shared.db import Database, migrate
from shared.errors import install_error_handlers
from shared.runtime import Runtime
from tandem.cli import app

REPO = Path(__file__).resolve().parents[2]
RANKING = (
    "Rank,Influencer name,Name,Category,Followers,Country,Eng. (Auth.),Eng. (Avg.)\n"
    "1,alpha_one,Alpha One,Beauty,2.1M,United States,40K,52K\n"
    "2,beta_two,Beta Two,Fitness,950K,Brazil,12K,15K\n"
    "3,gamma,Gamma,Music,N/A,India,1K,2K\n"
)


@pytest.fixture
def ranking_file(tmp_path: Path) -> Path:
    path = tmp_path / "instagram_test.csv"
    path.write_text(RANKING)
    return path


@pytest.fixture
def discovery_url(tmp_path: Path) -> Iterator[str]:
    """The discovery routes served by uvicorn on a free port, as `tandem serve discovery` would."""
    url = f"sqlite:///{tmp_path / 'discovery.db'}"
    migrate(url, REPO / "services" / "discovery" / "migrations")
    service = FastAPI()
    install_error_handlers(service)
    service.include_router(api.router)
    service.get("/health/live")(lambda: {"status": "live"})
    service.state.runtime = Runtime(
        settings=DiscoverySettings(), db=Database(url), outbox=Outbox("discovery")
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(service, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    service.state.runtime.db.close()


def _import(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["discovery", "import", *args], env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.output


def test_import_goes_to_the_running_service(ranking_file: Path, discovery_url: str) -> None:
    code, stdout, output = _import(str(ranking_file), "--url", discovery_url)
    assert code == 0, output
    assert "3 rows, 2 imported, 1 rejected; written: 2 created, 0 updated, 0 unchanged" in stdout
    assert f"creators written to the discovery service at {discovery_url}" in output
    creator = httpx.get(f"{discovery_url}/v1/creators/in-alpha_one", headers={"X-Org-Id": "demo"}).json()
    assert creator["name"] == "Alpha One"
    code, stdout, _ = _import(str(ranking_file), "--url", discovery_url, "--json")
    assert code == 0 and '"written": {"created": 0, "updated": 0, "unchanged": 2, "older": 0}' in stdout


def test_import_without_a_service_says_how_to_start_one_or_write_directly(ranking_file: Path) -> None:
    url = "http://127.0.0.1:9"
    code, _, output = _import(str(ranking_file), "--url", url)
    assert code == 1 and output.startswith(f"Error: no discovery service answers at {url}")
    assert "make run" in output and "--direct" in output and len(output.strip().splitlines()) == 2


def test_direct_import_writes_the_named_database(ranking_file: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'own.db'}"
    code, stdout, output = _import(str(ranking_file), "--database-url", url)
    assert code == 0, output
    assert "written: 2 created" in stdout and f"creators written to {url}" in output
    assert "people: 0 accounts newly linked; 0 persons hold 0 accounts" in output, "the linker ran"
    code, stdout, _ = _import(str(ranking_file), "--database-url", url)
    assert "written: 0 created, 0 updated, 2 unchanged" in stdout


def test_a_file_of_another_shape_is_refused_with_its_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "tiktok_orders.csv"
    path.write_text("order,handle,amount\n1,alpha,20\n")
    code, _, output = _import(str(path), "--dry-run")
    assert code == 1
    assert output.splitlines()[0] == (
        "Error: tiktok_orders.csv has no followers or subscribers column and no engagement, views, likes or "
        "comments column (its columns: order, handle, amount)"
    )


def test_platform_comes_from_the_option_when_the_name_does_not_tell(tmp_path: Path) -> None:
    path = tmp_path / "top_creators.csv"
    path.write_text(RANKING)
    code, _, output = _import(str(path), "--dry-run")
    assert code == 1 and "pass --platform" in output
    code, stdout, _ = _import(str(path), "--dry-run", "--platform", "instagram")
    assert code == 0 and "(instagram, measured on an unknown date): 3 rows, 2 imported" in stdout
