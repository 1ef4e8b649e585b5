"""Security headers on every response of every service (successes, refusals, errors, the docs, the
fast lane), and the production-secret checks of keys mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.runtime import create_app, refuse_insecure
from shared.security import InsecureSettings, secret_problem
from shared.settings import ServiceSettings
from tandem.services import SERVICES

EXPECTED = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def _assert_hardened(response: object, where: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, f"{where}: {name}"
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, where


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_response_of_every_service_carries_the_security_headers(name: str, tmp_path: Path) -> None:
    entry = SERVICES[name]
    settings = entry.settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", consumer_enabled=False,
                              webhooks_enabled=False, auth_mode="keys", log_level="WARNING")  # fmt: skip
    with TestClient(create_app(entry.spec, settings), raise_server_exceptions=False) as c:
        token = c.app.state.runtime.keys.issue("acme", "admin", "t")  # type: ignore[attr-defined]
        for method, path, headers in [
            ("GET", "/health/live", {}),
            ("GET", "/metrics/", {}),
            ("GET", "/nowhere", {}),
            ("GET", "/docs", {}),
            ("GET", "/openapi.json", {}),
            ("GET", "/v1/webhooks/endpoints", {}),  # 401
            ("GET", "/v1/webhooks/endpoints", {"X-API-Key": token}),
            ("POST", "/v1/webhooks/endpoints", {"X-API-Key": token}),  # 422
        ]:
            _assert_hardened(c.request(method, path, headers=headers), f"{name} {method} {path}")
        assert "cdn.jsdelivr.net" in c.get("/docs").headers["content-security-policy"]
        assert "strict-transport-security" not in c.get("/health/live").headers


@pytest.mark.parametrize(
    ("value", "reason"),
    [("", "not set"), ("change-me-in-production", "published default"), ("x" * 31, "shorter")],
)
def test_secret_problems_name_the_setting_and_why(value: str, reason: str) -> None:
    problem = secret_problem("TANDEM_SECRETS_KEY", value)
    assert problem is not None and reason in problem and "TANDEM_SECRETS_KEY" in problem
    assert secret_problem("X", "y" * 32) is None


def test_keys_mode_refuses_a_short_secrets_key_and_open_mode_does_not_care(tmp_path: Path) -> None:
    with pytest.raises(InsecureSettings, match="TANDEM_SECRETS_KEY is shorter"):
        refuse_insecure(ServiceSettings(data_dir=tmp_path, auth_mode="keys", secrets_key="short"))
    refuse_insecure(ServiceSettings(data_dir=tmp_path, auth_mode="open", secrets_key=""))
