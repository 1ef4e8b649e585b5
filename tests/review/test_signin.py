"""Web sign-in on the server: logout, a password change and deactivation end sessions; login is
throttled per account and per address; the cookie is Secure behind HTTPS; keys mode refuses a known or
short session secret."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.review import reviewers, signin
from services.review.app import build
from services.review.config import ReviewSettings
from services.review.schemas import ReviewerIn
from shared.db import Database, migrate
from shared.security import InsecureSettings
from tests.review import helpers

ANN = {"name": "Ann", "markets": ["US"], "password": "s3cret-pass"}


def _settings(tmp_path: Path, **kw: object) -> ReviewSettings:
    return ReviewSettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'review.db'}",  # type: ignore[arg-type]
                          kafka_bootstrap="127.0.0.1:1", consumer_enabled=False, default_org=helpers.ORG, **kw)  # fmt: skip


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(build(_settings(tmp_path, login_window_s=60))) as c:
        assert c.put("/v1/reviewers/ann", json=ANN).status_code == 200
        yield c


def _sign_in(c: TestClient, password: str = "s3cret-pass", **headers: str) -> str:
    r = c.post("/app/login", data={"reviewer_id": "ann", "password": password}, headers=headers,
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    return r.cookies["tandem_review_session"]


def _queue(c: TestClient, cookie: str) -> int:
    c.cookies.clear()
    return c.get(
        "/app/queue", headers={"Cookie": f"tandem_review_session={cookie}"}, follow_redirects=False
    ).status_code


def test_a_logged_out_session_cookie_is_refused(client: TestClient) -> None:
    cookie = _sign_in(client)
    assert _queue(client, cookie) == 200
    client.cookies.clear()
    client.post("/app/logout", headers={"Cookie": f"tandem_review_session={cookie}"}, follow_redirects=False)
    assert _queue(client, cookie) == 303  # back to sign-in: the copy kept by an attacker is dead too


def test_a_password_change_ends_every_session_of_the_person(client: TestClient) -> None:
    laptop, phone = _sign_in(client), _sign_in(client)
    assert client.put("/v1/reviewers/ann", json={**ANN, "password": "n3w-passphrase"}).status_code == 200
    assert _queue(client, laptop) == 303 and _queue(client, phone) == 303
    assert _queue(client, _sign_in(client, "n3w-passphrase")) == 200


def test_deactivation_ends_the_session(client: TestClient) -> None:
    cookie = _sign_in(client)
    assert client.put("/v1/reviewers/ann", json={**{k: v for k, v in ANN.items() if k != "password"},
                                                 "active": False}).status_code == 200  # fmt: skip
    assert _queue(client, cookie) == 303


def test_the_11th_wrong_password_in_a_minute_is_throttled_and_the_right_one_still_waits(
    client: TestClient,
) -> None:
    codes = [client.post("/app/login", data={"reviewer_id": "ann", "password": f"guess-{i}"}).status_code
             for i in range(11)]  # fmt: skip
    assert codes == [401] * 10 + [429]
    right = client.post("/app/login", data={"reviewer_id": "ann", "password": "s3cret-pass"},
                        follow_redirects=False)  # fmt: skip
    assert right.status_code == 429
    assert "Too many failed sign-ins for this account" in right.text
    assert 50 <= int(right.headers["retry-after"]) <= 60
    assert 'value="ann"' in right.text  # the form keeps what was typed
    assert "tandem_review_session" not in right.headers.get("set-cookie", "")


def test_one_address_spraying_many_accounts_is_throttled(tmp_path: Path) -> None:
    with TestClient(build(_settings(tmp_path, login_max_failures_per_address=5))) as c:
        codes = [c.post("/app/login", data={"reviewer_id": f"user-{i}", "password": "x"}).status_code
                 for i in range(6)]  # fmt: skip
        assert codes == [401] * 5 + [429]
        assert "your network address" in c.post("/app/login", data={"reviewer_id": "z", "password": "x"}).text


def test_a_successful_sign_in_clears_the_account_failures(client: TestClient) -> None:
    for i in range(9):
        client.post("/app/login", data={"reviewer_id": "ann", "password": f"guess-{i}"})
    _sign_in(client)
    codes = [client.post("/app/login", data={"reviewer_id": "ann", "password": f"again-{i}"}).status_code
             for i in range(10)]  # fmt: skip
    assert codes == [401] * 10


def test_the_cookie_is_secure_behind_https_and_plain_on_local_http(tmp_path: Path) -> None:
    app = build(_settings(tmp_path))
    with TestClient(app) as c:
        c.put("/v1/reviewers/ann", json=ANN)
        plain = c.post(
            "/app/login", data={"reviewer_id": "ann", "password": "s3cret-pass"}, follow_redirects=False
        )
        assert "secure" not in plain.headers["set-cookie"].lower()
    # What `tandem serve` does: X-Forwarded-Proto believed from the proxies in forwarded_allow_ips.
    with TestClient(ProxyHeadersMiddleware(app, trusted_hosts="*")) as c:  # type: ignore[arg-type]
        proxied = c.post("/app/login", data={"reviewer_id": "ann", "password": "s3cret-pass"},
                         headers={"X-Forwarded-Proto": "https"}, follow_redirects=False)  # fmt: skip
        assert "; secure" in proxied.headers["set-cookie"].lower()
        assert proxied.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize("secret", ["", "change-me-in-production", "short-but-not-known"])
def test_keys_mode_refuses_to_start_with_a_default_or_short_session_secret(
    tmp_path: Path, secret: str
) -> None:
    settings = _settings(tmp_path, auth_mode="keys", session_secret=secret, secrets_key="k" * 40)
    with pytest.raises(InsecureSettings, match="TANDEM_REVIEW_SESSION_SECRET"), TestClient(build(settings)):
        pass


def test_keys_mode_starts_with_a_long_session_secret(tmp_path: Path) -> None:
    settings = _settings(tmp_path, auth_mode="keys", session_secret="x" * 40, secrets_key="k" * 40)
    with TestClient(build(settings)) as c:
        assert c.get("/health/live").status_code == 200


def test_parallel_guesses_on_postgresql_get_no_more_than_the_limit(
    postgres_database: Callable[[str], str],
) -> None:
    """Twenty wrong passwords at once: attempts on one account queue, so exactly ten are checked."""
    url = postgres_database("signin")
    migrate(url, Path("services/review/migrations"))
    db = Database(url)
    with db.transaction() as session:
        reviewers.upsert(session, helpers.ORG, "ann", ReviewerIn.model_validate(ANN))
    policy, account = signin.ThrottlePolicy(per_account=10), signin.account_key(helpers.ORG, "ann")

    def guess(i: int) -> str:
        with db.transaction() as session:
            if signin.throttled(session, account, f"10.0.0.{i}", policy):
                return "throttled"
            assert reviewers.authenticate(session, helpers.ORG, "ann", f"guess-{i}") is None
            signin.record_failure(session, account, f"10.0.0.{i}")
            return "checked"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(guess, range(20)))
    assert outcomes.count("checked") == 10 and outcomes.count("throttled") == 10
