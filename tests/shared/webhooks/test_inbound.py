"""Inbound webhooks: signed ones are accepted once; forged, stale and replayed ones are not applied."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shared.db import Database, migrate
from shared.errors import Unauthorized
from shared.runtime import IDENTITY_MIGRATIONS
from shared.webhooks.inbound import Acceptance, accept, register_source
from shared.webhooks.signing import new_secret, sign_headers

BODY = b'{"type":"campaign.result","data":{"reach":1200}}'


@pytest.fixture
def edge(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    migrate(url, IDENTITY_MIGRATIONS)
    return Database(url)


def test_signed_webhook_is_accepted_for_the_sources_org(edge: Database) -> None:
    source, secret = register_source(edge, "acme", "shop platform")
    assert accept(edge, source, sign_headers([secret], "msg_1", BODY), BODY) == ("acme", Acceptance.NEW)


def test_replayed_webhook_id_is_a_duplicate(edge: Database) -> None:
    source, secret = register_source(edge, "acme", "p")
    headers = sign_headers([secret], "msg_2", BODY)
    accept(edge, source, headers, BODY)
    assert accept(edge, source, headers, BODY) == ("acme", Acceptance.DUPLICATE)


def test_forged_signature_is_unauthorized(edge: Database) -> None:
    source, _ = register_source(edge, "acme", "p")
    with pytest.raises(Unauthorized, match="no matching signature"):
        accept(edge, source, sign_headers([new_secret()], "msg_3", BODY), BODY)


def test_stale_timestamp_is_unauthorized(edge: Database) -> None:
    source, secret = register_source(edge, "acme", "p")
    headers = sign_headers([secret], "msg_4", BODY, timestamp=int(time.time()) - 3600)
    with pytest.raises(Unauthorized, match="from now"):
        accept(edge, source, headers, BODY)


def test_unknown_source_is_unauthorized_like_a_bad_signature(edge: Database) -> None:
    with pytest.raises(Unauthorized, match="unknown source or no matching signature"):
        accept(edge, "src_missing", {}, BODY)
