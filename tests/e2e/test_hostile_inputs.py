"""Hand-made hostile inputs get a 4xx problem naming the field, the same on SQLite and PostgreSQL: NUL
bytes, ids longer than their column, integers past the column's range, Infinity, NaN, 1e400 and figures no
post can have. On PostgreSQL most of these were plain-text 500s; SQLite stored some of them."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from shared.db import migrate
from shared.errors import PROBLEM_JSON
from shared.runtime import IDENTITY_MIGRATIONS, create_app
from tandem.services import SERVICES

ORG = {"X-Org-Id": "hostile"}
BIG = 2**63  # one past int64, the largest integer either database stores


def _creator(**over: Any) -> dict[str, Any]:
    return {"creator_id": "cr-1", "name": "Ann", "home_market": "US", "languages": ["en"],
            "categories": ["beauty"], "audience": [],
            "accounts": [{"platform": "instagram", "handle": "ann", "followers": 12_000,
                          "engagement_rate": 0.02}], **over}  # fmt: skip


def _result(**over: Any) -> dict[str, Any]:
    return {"result_id": "res-1", "campaign_id": "cmp-1", "creator_id": "cr-1", "platform": "instagram",
            "format": "reel", "market": "RU", "reach": 1200, "engagements": 80, "clicks": 4,
            "conversions": 1, "spend_usd": 300, "posted_at": "2026-10-01T18:00:00+00:00", **over}  # fmt: skip


def _account(**over: Any) -> dict[str, Any]:
    return {"platform": "instagram", "handle": "ann", "followers": 12_000, "engagement_rate": 0.02, **over}


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, "cr-1"]).encode()).decode()


def _raw(doc: str) -> dict[str, Any]:
    """A body sent as written: JSON encoders refuse 1e400 and write Infinity their own way."""
    return {"content": doc.encode(), "headers": {**ORG, "content-type": "application/json"}}


# (service, method, path, request keywords, the field the 422 must name)
CASES: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("discovery", "POST", "/v1/creators/bulk", {"json": {"creators": [_creator(name="A\x00nn")]}},
     "creators.0.name"),
    ("discovery", "POST", "/v1/creators/bulk", {"json": {"creators": [_creator(creator_id="c" * 65)]}},
     "creators.0.creator_id"),
    ("discovery", "POST", "/v1/creators/bulk",
     _raw(json.dumps({"creators": [_creator(price_usd=0)]}).replace('"price_usd": 0', '"price_usd": Infinity')),
     "creators.0.price_usd"),
    ("discovery", "POST", "/v1/creators/bulk",
     _raw(json.dumps({"creators": [_creator(accounts=[_account(avg_likes=0)])]})
          .replace('"avg_likes": 0', '"avg_likes": 1e400')),
     "creators.0.accounts.0.avg_likes"),
    ("discovery", "POST", "/v1/creators/bulk", {"json": {"creators": [_creator(accounts=[_account(followers=BIG)])]}},
     "creators.0.accounts.0.followers"),
    ("discovery", "POST", "/v1/search", {"json": {"min_followers": BIG}}, "min_followers"),
    ("discovery", "POST", "/v1/search", {"json": {"max_followers": 2**31}}, "max_followers"),
    ("discovery", "POST", "/v1/search", {"json": {"cursor": _cursor(BIG)}}, "cursor"),
    ("discovery", "POST", "/v1/search", {"json": {"text": "ann\x00"}}, "text"),
    ("discovery", "GET", "/v1/creators/" + "c" * 65, {}, "creator_id"),
    ("fraud", "POST", "/v1/fraud/score", _raw('{"account": {"platform": "instagram", "handle": "a", '
                                              '"followers": 100, "engagement_rate": NaN}}'),
     "account.engagement_rate"),
    ("fraud", "POST", "/v1/fraud/score", {"json": {"creator_id": "x\x00", "account": _account()}}, "creator_id"),
    ("fraud", "POST", "/v1/fraud/creators/cr-1/history", _raw('{"hourly_clicks": [1, 2, NaN]}'),
     "hourly_clicks.2"),
    ("fraud", "POST", "/v1/fraud/creators/cr-1/history", {"json": {"hourly_clicks": [1, -2]}}, "hourly_clicks.1"),
    ("fraud", "POST", "/v1/fraud/creators/" + "c" * 65 + "/history", {"json": {}}, "creator_id"),
    ("fraud", "GET", "/v1/fraud/anomalies", {"params": {"limit": str(BIG)}}, "limit"),
    ("forecast", "POST", "/v1/results", _raw(json.dumps({"results": [_result()]}).replace('"reach": 1200', '"reach": NaN')),
     "results.0.reach"),
    ("forecast", "POST", "/v1/results", {"json": {"results": [_result(conversions=9)]}}, "results.0.conversions"),
    ("forecast", "POST", "/v1/results", {"json": {"results": [_result(engagements=5000)]}}, "results.0.engagements"),
    ("forecast", "POST", "/v1/results", {"json": {"results": [_result(reach=0, engagements=0)]}}, "results.0.clicks"),
    ("forecast", "POST", "/v1/results", {"json": {"results": [_result(result_id="r" * 65)]}}, "results.0.result_id"),
    ("forecast", "POST", "/v1/results", {"json": {"results": [_result(creator_id="cr\x00")]}}, "results.0.creator_id"),
    ("review", "PUT", "/v1/reviewers/" + "r" * 101, {"json": {"name": "Rita", "markets": ["US"]}}, "reviewer_id"),
    ("review", "PUT", "/v1/reviewers/rita", {"json": {"name": "Ri\x00ta", "markets": ["US"]}}, "name"),
    ("review", "POST", "/v1/creators/" + "c" * 65 + "/relationship", {"json": {"notes": "fine"}}, "creator_id"),
    ("review", "POST", "/v1/creators/cr-1/relationship", _raw('{"outcome_vs_forecast": Infinity}'),
     "outcome_vs_forecast"),
    ("review", "GET", "/v1/reviewers/rita/queue", {"params": {"campaign_id": "a\x00b"}}, "campaign_id"),
]  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def clients(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, TestClient]]:
    """The four services on one kind of database; the bus is absent (nothing here needs it)."""
    root = tmp_path_factory.mktemp(f"hostile-{request.param}")
    url: Callable[[str], str] = lambda name: f"sqlite:///{root / f'{name}.db'}"  # noqa: E731
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_database")
    identity = url("identity")
    migrate(identity, IDENTITY_MIGRATIONS)
    clients: dict[str, TestClient] = {}
    for name, entry in SERVICES.items():
        settings = entry.settings(data_dir=root, database_url=url(name), auth_database_url=identity,
                                  kafka_bootstrap="127.0.0.1:9", consumer_enabled=False, webhooks_enabled=False,
                                  log_level="WARNING")  # fmt: skip
        clients[name] = TestClient(
            create_app(entry.spec, settings), raise_server_exceptions=False
        ).__enter__()
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


@pytest.mark.parametrize(("service", "method", "path", "kwargs", "field"), CASES,
                         ids=[f"{c[0]}-{c[4]}-{i}" for i, c in enumerate(CASES)])  # fmt: skip
def test_hostile_input_is_a_4xx_problem_naming_the_field(
    clients: dict[str, TestClient], service: str, method: str, path: str, kwargs: dict[str, Any], field: str
) -> None:
    kwargs = {"headers": ORG, **kwargs}
    r = clients[service].request(method, path, **kwargs)
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    body = r.json()
    assert body["correlation_id"]
    assert field in [e["field"] for e in body.get("errors", [])], body


def test_nothing_hostile_was_stored(clients: dict[str, TestClient]) -> None:
    """After every case above (module order), no table holds a NUL or an over-long id."""
    for name in ("discovery", "forecast", "review"):
        db = clients[name].app.state.runtime.db  # type: ignore[attr-defined]
        with db.engine.connect() as conn:
            for table in ("creator", "campaign_result", "reviewer"):
                if db.engine.dialect.has_table(conn, table):
                    assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, (
                        name,
                        table,
                    )
