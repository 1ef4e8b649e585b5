"""No request can read or change another organisation's data: walk every route with the other org's key."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shared.broker import Broker
from shared.db import Database, migrate
from shared.identity.keys import KeyStore
from shared.runtime import IDENTITY_MIGRATIONS
from tandem import synthetic
from tandem.demo import DEMO_BRIEFS, DEMO_REVIEWERS, DemoClient
from tandem.services import SERVICES
from tandem.supervisor import Suite

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
OPEN_PATHS = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json")


@pytest.fixture(scope="module")
def keyed_suite(
    broker: Broker, postgres_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Suite, dict[str, str]]]:
    identity = postgres_database("iso_identity")
    migrate(identity, IDENTITY_MIGRATIONS)
    store = KeyStore(Database(identity))
    # Org A's key is its demo reviewer's: the demo campaign's decision is recorded as that person.
    keys = {"a": store.issue("org-a", "admin", "tests", person=DEMO_REVIEWERS[0]),
            "b": store.issue("org-b", "admin", "tests")}  # fmt: skip
    suite = Suite(
        bootstrap=broker.bootstrap, workdir=tmp_path_factory.mktemp("iso"),
        database_urls={name: postgres_database(f"iso_{name}") for name in SERVICES},
        extra_env={"TANDEM_AUTH_MODE": "keys", "TANDEM_AUTH_DATABASE_URL": identity},
    )  # fmt: skip
    suite.start()
    yield suite, keys
    suite.stop()


def _ids(doc: Any, found: dict[str, set[str]]) -> None:
    """Every string under a key ending in `_id`, by key: the identifiers org A's data exposes."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k.endswith("_id") and isinstance(v, str):
                found.setdefault(k, set()).add(v)
            _ids(v, found)
    elif isinstance(doc, list):
        for item in doc:
            _ids(item, found)


def _seed_org_a(suite: Suite, key: str) -> dict[str, set[str]]:
    client = DemoClient(suite, headers={"X-API-Key": key})
    client.load_catalogue(synthetic.generate_world(150, seed=21))
    result = client.run_campaign({**DEMO_BRIEFS[0], "shortlist_size": 8})
    found: dict[str, set[str]] = {}
    _ids(result, found)
    return found


def _org_a_view(suite: Suite, key: str, a_ids: dict[str, set[str]]) -> list[Any]:
    """What org A sees of its campaign: shortlist, review summary and forecasts."""
    client = DemoClient(suite, headers={"X-API-Key": key})
    cid = sorted(a_ids["campaign_id"])[0]
    shortlist = client.get("discovery", f"/v1/campaigns/{cid}/shortlist")
    return [
        [e["creator"]["creator_id"] for e in shortlist["entries"]],
        client.get("review", f"/v1/campaigns/{cid}/summary"),
        sorted(f["forecast_id"] for f in client.get("forecast", f"/v1/campaigns/{cid}/forecasts")),
    ]


def _routes(base: str, key: str) -> list[tuple[str, str, list[str]]]:
    spec = httpx.get(f"{base}/openapi.json", headers={"X-API-Key": key}).json()
    out = []
    for path, item in spec["paths"].items():
        if path.startswith(OPEN_PATHS) or not path.startswith("/v1"):
            continue
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                out.append((method.upper(), path, re.findall(r"{(\w+)}", path)))
    return out


def test_every_api_route_needs_a_key(keyed_suite: tuple[Suite, dict[str, str]]) -> None:
    suite, keys = keyed_suite
    refused = []
    for name, proc in suite.processes.items():
        for method, path, _params in _routes(proc.url, keys["a"]):
            url = proc.url + re.sub(r"{\w+}", "x", path)
            r = httpx.request(method, url, json={})
            refused.append((name, method, path, r.status_code))
    assert refused and all(code == 401 for *_, code in refused), [r for r in refused if r[3] != 401]


def test_another_orgs_key_can_neither_read_nor_change_org_a_data(
    keyed_suite: tuple[Suite, dict[str, str]],
) -> None:
    suite, keys = keyed_suite
    a_ids = _seed_org_a(suite, keys["a"])
    assert a_ids.get("campaign_id") and a_ids.get("creator_id")
    every_a_id = {v for values in a_ids.values() for v in values}
    before = _org_a_view(suite, keys["a"], a_ids)
    leaks = []
    walked = 0
    for name, proc in suite.processes.items():
        for method, path, params in _routes(proc.url, keys["b"]):
            if params and not all(p in a_ids for p in params):
                continue
            url = proc.url + path
            for p in params:
                url = url.replace("{" + p + "}", sorted(a_ids[p])[0])
            used = {sorted(a_ids[p])[0] for p in params}
            r = httpx.request(
                method, url, headers={"X-API-Key": keys["b"]}, json={} if method != "GET" else None
            )
            walked += 1
            # Org B may act in its own namespace (ids are not global) and answers may echo the path;
            # any other identifier of org A's in an answer to org B is a leak.
            shown = {i for i in every_a_id - used if i in r.text}
            if 200 <= r.status_code < 300 and shown:
                leaks.append(f"{name} {method} {path} -> {r.status_code} shows {sorted(shown)[:3]}")
    assert walked > 10
    assert leaks == [], "\n".join(leaks)
    assert _org_a_view(suite, keys["a"], a_ids) == before, "org B's calls changed org A's data"
