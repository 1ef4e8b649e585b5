"""Every route of the four services, walked in keys mode with a key of every role: each write refuses the
roles it does not declare, partners never judge, and no route records a judgement in someone else's name.

The declared roles are read off each route (shared.orgs.RoleCheck); the policy they must obey (what a
partner may do, which routes are judgements, which body fields name a person) is written here, apart
from the routes, so a route that declares too much fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from shared.broker import LocalBroker
from shared.db import migrate
from shared.identity.keys import ROLES
from shared.orgs import role_checks
from shared.runtime import IDENTITY_MIGRATIONS, create_app
from shared.webhooks.api import router as webhooks_router
from tandem.services import SERVICES

pytestmark = [pytest.mark.integration]
ORG = "org-walk"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# What partners' systems may do: bring data in (catalogue, results, histories, observations, their
# signed webhooks), manage their webhook endpoints, and ask for computations that store nothing.
PARTNER_MAY = re.compile(
    r"^/v1/(inbound/|webhooks/|results$|creators/bulk$|search$|lookalikes$|plans$|simulator$|page-posts/"
    r"|forecasts/predict|fraud/score|fraud/audience$|fraud/creators/\{creator_id\}/history$"
    r"|experiments/\{experiment_id\}/observations$)"
)
# Judgements and plans: people's (or their strategists'), never a partner's.
JUDGEMENTS = {
    ("review", "POST", "/v1/tasks/{task_id}/decision"),
    ("review", "POST", "/v1/tasks/{task_id}/forecast-adjustments"),
    ("review", "POST", "/v1/creators/{creator_id}/relationship"),
    ("review", "PUT", "/v1/reviewers/{reviewer_id}"),
    ("review", "PUT", "/v1/settings/{scope}/{scope_id}"),
    ("review", "POST", "/v1/sweep"),
    ("fraud", "POST", "/v1/fraud/anomalies/{anomaly_id}/review"),
    ("forecast", "POST", "/v1/forecasts/{forecast_id}/adjustments"),
    ("forecast", "POST", "/v1/experiments"),
    ("discovery", "POST", "/v1/briefs"),
    ("discovery", "POST", "/v1/people/link"),
    ("discovery", "DELETE", "/v1/people/{person_id}/accounts/{creator_id}"),
}
# Body fields that name a person, and a body that is valid but for naming someone else in that field.
PERSON_FIELDS = {"reviewer", "author", "decided_by", "updated_by", "by", "person", "actor"}
IMPERSONATIONS: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("review", "/v1/tasks/{task_id}/decision"): ("reviewer", {"decision": "approve"}),
    ("review", "/v1/tasks/{task_id}/forecast-adjustments"): ("reviewer", {"multiplier": 1.5, "reason": "why not"}),
    ("review", "/v1/creators/{creator_id}/relationship"): ("author", {"status": "active"}),
    ("fraud", "/v1/fraud/anomalies/{anomaly_id}/review"): ("reviewer", {"verdict": "dismissed"}),
    ("forecast", "/v1/forecasts/{forecast_id}/adjustments"): ("author", {"metric": "reach", "multiplier": 2, "reason": "r"}),
}  # fmt: skip


def declared(route: APIRoute) -> set[str] | None:
    """The roles a route admits (admins always), or None when it declares nothing."""
    checks = role_checks(route.dependant)
    if not checks:
        return None
    allowed = set(ROLES)
    for check in checks:
        allowed &= {"admin", *check.roles}
    return allowed


def api_routes(service: str) -> list[tuple[str, APIRoute]]:
    """Every /v1 route a service mounts (its routers and the shared webhook routes), one per method."""
    routers = [*SERVICES[service].spec.routers, webhooks_router]
    return [
        (method, r)
        for router in routers
        for r in router.routes
        if isinstance(r, APIRoute) and r.path.startswith("/v1")
        for method in sorted(r.methods or [])
    ]


@pytest.fixture(scope="module")
def apps(broker: LocalBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    root = tmp_path_factory.mktemp("roles")
    identity = f"sqlite:///{root / 'identity.db'}"
    migrate(identity, IDENTITY_MIGRATIONS)
    clients: dict[str, TestClient] = {}
    for name, entry in SERVICES.items():
        settings = entry.settings(data_dir=root / name, kafka_bootstrap=broker.bootstrap, consumer_enabled=False,
                                  webhooks_enabled=False, log_level="WARNING", auth_mode="keys",
                                  auth_database_url=identity)  # fmt: skip
        clients[name] = TestClient(create_app(entry.spec, settings)).__enter__()
    yield clients
    for c in clients.values():
        c.__exit__(None, None, None)


@pytest.fixture(scope="module")
def keys(apps: dict[str, TestClient]) -> dict[str, str]:
    store = apps["review"].app.state.runtime.keys  # type: ignore[attr-defined]
    return {role: store.issue(ORG, role, f"walk {role}", person=f"{role}.person@walk") for role in ROLES}


def _url(path: str) -> str:
    return re.sub(r"{\w+}", "x", path)


def test_every_route_refuses_the_roles_it_does_not_declare(
    apps: dict[str, TestClient], keys: dict[str, str]
) -> None:
    failures: list[str] = []
    walked = refused = allowed_writes = 0
    for name, client in apps.items():
        fast = set(SERVICES[name].spec.fast_routes)
        for method, route in api_routes(name):
            roles = declared(route)
            where = f"{name} {method} {route.path}"
            if roles is None:
                if method in WRITES:
                    failures.append(f"{where}: a write with no declared role (dependencies=allow(...))")
                roles = set(ROLES)
            if route.path in fast and roles != set(ROLES):
                failures.append(f"{where}: the fast lane skips role checks, so it must admit every role")
            if "partner" in roles and method in WRITES and not PARTNER_MAY.match(route.path):
                failures.append(f"{where}: admits partners, who integrate and never judge")
            if (name, method, route.path) in JUDGEMENTS and roles & {"partner"}:
                failures.append(f"{where}: a judgement admits partners")
            for role, key in keys.items():
                # A partner's signed webhook is the partner whatever key comes with it.
                acting = "partner" if route.path.startswith("/v1/inbound/") else role
                r = client.request(method, _url(route.path), headers={"X-API-Key": key},
                                   json={} if method in WRITES else None)  # fmt: skip
                walked += 1
                was_refused = r.status_code == 403 and "may not do this" in r.text
                if acting in roles and was_refused:
                    failures.append(f"{where}: {role} refused though declared: {r.text[:120]}")
                elif acting not in roles and not was_refused:
                    failures.append(f"{where}: {role} not refused (got {r.status_code})")
                refused += was_refused
                allowed_writes += method in WRITES and not was_refused
    print(f"\nrole walk: {walked} requests over {len(ROLES)} roles, {refused} refused by role, "
          f"{allowed_writes} writes admitted, {len(failures)} failures")  # fmt: skip
    assert walked > 300
    assert failures == [], "\n".join(failures)


def test_no_route_records_a_judgement_in_another_persons_name(
    apps: dict[str, TestClient], keys: dict[str, str]
) -> None:
    failures: list[str] = []
    covered = 0
    for name, client in apps.items():
        for method, route in api_routes(name):
            fields = {
                f
                for p in route.dependant.body_params
                for f in getattr(p.field_info.annotation, "model_fields", {})
            }
            named = sorted(PERSON_FIELDS & fields)
            if not named:
                continue
            if (name, route.path) not in IMPERSONATIONS:
                failures.append(
                    f"{name} {method} {route.path}: body names a person ({named}) but is not walked"
                )
                continue
            field, valid = IMPERSONATIONS[(name, route.path)]
            for role in sorted(declared(route) or set(ROLES)):
                r = client.request(method, _url(route.path), headers={"X-API-Key": keys[role]},
                                   json={**valid, field: "someone.else@walk"})  # fmt: skip
                covered += 1
                errors = r.json().get("errors") or [{}]
                if r.status_code != 422 or errors[0].get("field") != field:
                    failures.append(f"{name} {route.path} as {role}: {r.status_code} {r.text[:150]}")
    print(f"\nimpersonation walk: {covered} requests naming someone else, {len(failures)} failures")
    assert covered >= len(IMPERSONATIONS)
    assert failures == [], "\n".join(failures)


def test_a_partner_key_cannot_decide_adjust_or_give_a_verdict(
    apps: dict[str, TestClient], keys: dict[str, str]
) -> None:
    partner = {"X-API-Key": keys["partner"]}
    tries = [
        ("review", "/v1/tasks/t-1/decision", {"decision": "approve"}),
        ("review", "/v1/tasks/t-1/forecast-adjustments", {"multiplier": 9, "reason": "trust me"}),
        ("fraud", "/v1/fraud/anomalies/an-1/review", {"verdict": "dismissed"}),
        ("forecast", "/v1/forecasts/fc-1/adjustments", {"metric": "reach", "multiplier": 100, "reason": "x"}),
    ]
    for service, path, body in tries:
        r = apps[service].post(path, json=body, headers=partner)
        assert r.status_code == 403 and "role 'partner' may not do this" in r.json()["detail"], (path, r.text)
