"""Inbound webhooks: signed ones are applied once; forged, stale and replayed ones are not applied; a body
that fails to apply does not burn its webhook-id."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlmodel import Session, select

from shared.db import Database, migrate
from shared.errors import Invalid, Unauthorized
from shared.runtime import IDENTITY_MIGRATIONS
from shared.webhooks.inbound import Inbound, apply_once, nul_path, receive, register_source, verified
from shared.webhooks.models import InboundMessage
from shared.webhooks.signing import new_secret, sign_headers

BODY = b'{"type":"campaign.result","data":{"reach":1200}}'
DISCOVERY_MIGRATIONS = Path(__file__).parents[3] / "services" / "discovery" / "migrations"


class Result(BaseModel):
    type: str
    data: dict[str, int | str]


@pytest.fixture
def edge(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    return Database(url)


@pytest.fixture
def service_db(tmp_path: Path) -> Database:
    """A receiving service's own database, where the webhook-ids are recorded."""
    url = f"sqlite:///{tmp_path / 'discovery.db'}"
    migrate(url, DISCOVERY_MIGRATIONS)
    return Database(url)


def test_signed_webhook_is_verified_for_the_sources_org(edge: Database) -> None:
    source, secret = register_source(edge, "acme", "shop platform")
    assert verified(edge, source, sign_headers([secret], "msg_1", BODY), BODY) == ("acme", "msg_1")


def test_forged_signature_is_unauthorized(edge: Database) -> None:
    source, _ = register_source(edge, "acme", "p")
    with pytest.raises(Unauthorized, match="no matching signature"):
        verified(edge, source, sign_headers([new_secret()], "msg_3", BODY), BODY)


def test_stale_timestamp_is_unauthorized(edge: Database) -> None:
    source, secret = register_source(edge, "acme", "p")
    headers = sign_headers([secret], "msg_4", BODY, timestamp=int(time.time()) - 3600)
    with pytest.raises(Unauthorized, match="from now"):
        verified(edge, source, headers, BODY)


def test_unknown_source_is_unauthorized_like_a_bad_signature(edge: Database) -> None:
    with pytest.raises(Unauthorized, match="unknown source or no matching signature"):
        verified(edge, "src_missing", {}, BODY)


def test_webhook_id_longer_than_its_column_is_invalid_naming_the_header(edge: Database) -> None:
    source, secret = register_source(edge, "acme", "p")
    with pytest.raises(Invalid, match="at most 200") as caught:
        verified(edge, source, sign_headers([secret], "m" * 201, BODY), BODY)
    assert caught.value.errors[0]["field"] == "webhook-id"


def test_nul_character_in_the_body_is_invalid_naming_the_field(edge: Database) -> None:
    source, secret = register_source(edge, "acme", "p")
    body = b'{"type":"campaign.result","data":{"note":"a\\u0000b"}}'
    with pytest.raises(Invalid, match="NUL") as caught:
        receive(edge, source, sign_headers([secret], "msg_nul", body), body, Result)
    assert caught.value.errors[0]["field"] == "data.note"


def test_nul_path_names_keys_and_list_items() -> None:
    assert nul_path({"a": [1, "ok", {"b\x00": 2}]}) == "a.2.b\x00"
    assert nul_path({"a": ["x", "y\x00"]}) == "a.1"
    assert nul_path({"a": ["x"]}) is None


def _inbound(edge: Database, webhook_id: str) -> Inbound[Result]:
    source, secret = register_source(edge, "acme", "p")
    return receive(edge, source, sign_headers([secret], webhook_id, BODY), BODY, Result)


def test_replayed_webhook_id_is_not_applied_twice(edge: Database, service_db: Database) -> None:
    inbound = _inbound(edge, "msg_2")
    applied: list[str] = []

    def apply(session: Session, org_id: str, body: Result) -> str:
        applied.append(org_id)
        return "done"

    assert apply_once(service_db, inbound, apply) == "done"
    assert apply_once(service_db, inbound, apply) is None
    assert applied == ["acme"]


def test_a_body_that_fails_to_apply_does_not_burn_its_webhook_id(
    edge: Database, service_db: Database
) -> None:
    inbound = _inbound(edge, "msg_5")

    def refuse(session: Session, org_id: str, body: Result) -> str:
        raise Invalid("the partner's figures are impossible", field="data.reach")

    def crash(session: Session, org_id: str, body: Result) -> str:
        raise RuntimeError("database went away")

    for failing in (refuse, crash):
        with pytest.raises((Invalid, RuntimeError)):
            apply_once(service_db, inbound, failing)
        with service_db.transaction() as s:
            assert s.exec(select(InboundMessage)).all() == []
    assert apply_once(service_db, inbound, lambda s, org, body: body.data["reach"]) == 1200
    with service_db.transaction() as s:
        assert [m.webhook_id for m in s.exec(select(InboundMessage))] == ["msg_5"]


def test_the_same_webhook_delivered_twice_at_once_on_postgresql_is_applied_once(
    edge: Database, postgres_database: Callable[[str], str]
) -> None:
    url = postgres_database("inbound")
    migrate(url, DISCOVERY_MIGRATIONS)
    service_db, inbound = Database(url), _inbound(edge, "msg_twice")
    applied: list[str] = []

    def slow_apply(session: Session, org_id: str, body: Result) -> str:
        time.sleep(0.3)  # both deliveries are inside their transactions at once
        applied.append(org_id)
        return "applied"

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: apply_once(service_db, inbound, slow_apply), range(2)))
    assert sorted(map(str, answers)) == ["None", "applied"]
    assert applied == ["acme"]
