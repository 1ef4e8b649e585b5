"""A service that stops takes its background workers with it: nothing of it keeps waking afterwards."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from services.forecast.app import build
from services.forecast.config import ForecastSettings
from shared.runtime import Runtime


def test_stopping_a_service_stops_its_retrain_trigger_and_error_drift_watch(tmp_path: Path) -> None:
    settings = ForecastSettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'forecast.db'}",
                                kafka_bootstrap="127.0.0.1:1", consumer_enabled=False, webhooks_enabled=False,
                                retrain_every_results=10, retrain_check_interval_s=0.05,
                                error_drift_interval_s=0.05)  # fmt: skip
    with TestClient(build(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        workers = [runtime.extras["retrain_trigger"], runtime.extras["error_drift_watch"]]
        assert all(w.is_alive() for w in workers)
    # Before Runtime.close() stopped them, both went on checking a closed database every interval, for
    # as long as the process lived (seen as their failures logged after the test suite's last test).
    assert not [w.name for w in workers if w.is_alive()]
