"""Inbound webhooks from partners: verify signature and timestamp, refuse replays, accept once.

A service's route calls `accept` and then stages the payload as an event through its outbox, so the
partner gets a fast answer and the work happens through the bus.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from shared.db import Database
from shared.errors import Invalid, Unauthorized
from shared.webhooks.models import InboundMessage, InboundSource
from shared.webhooks.signing import WebhookVerificationError, new_secret, verify


class Acceptance(Enum):
    NEW = "new"
    DUPLICATE = "duplicate"


def register_source(edge: Database, org_id: str, name: str) -> tuple[str, str]:
    """A partner source for an organisation; returns (source_id, secret) — the secret is shown once."""
    source_id, secret = f"src_{secrets.token_hex(8)}", new_secret()
    with edge.transaction() as s:
        s.add(InboundSource(source_id=source_id, org_id=org_id, name=name, secrets=[secret],
                            created_at=datetime.now(UTC)))  # fmt: skip
    return source_id, secret


def accept(
    edge: Database, source_id: str, headers: dict[str, str], body: bytes, tolerance_s: int = 300
) -> tuple[str, Acceptance]:
    """Verify and record one inbound webhook; returns the source's org_id and whether it is new.

    Raises Unauthorized for an unknown source, a bad signature or a stale timestamp; the answer does not
    say which, so a caller cannot probe which sources exist.
    """
    with edge.transaction() as s:
        source = s.get(InboundSource, source_id)
    if source is None:
        raise Unauthorized("webhook refused: unknown source or no matching signature")
    try:
        webhook_id = verify(source.secrets, headers, body, tolerance_s=tolerance_s)
    except WebhookVerificationError as exc:
        raise Unauthorized(f"webhook refused: {exc}") from exc
    try:
        with edge.transaction() as s:
            s.add(InboundMessage(source_id=source_id, webhook_id=webhook_id, received_at=datetime.now(UTC)))
    except IntegrityError:
        return source.org_id, Acceptance.DUPLICATE
    return source.org_id, Acceptance.NEW


Body = TypeVar("Body", bound=BaseModel)


def receive(
    edge: Database, source_id: str, headers: dict[str, str], body: bytes, schema: type[Body]
) -> tuple[str, Body] | None:
    """Accept a webhook and parse its body: (org_id, body), or None for a replay (answer 2xx, do nothing)."""
    org_id, acceptance = accept(edge, source_id, headers, body)
    if acceptance is Acceptance.DUPLICATE:
        return None
    try:
        return org_id, schema.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise Invalid(f"webhook body is not a valid {schema.__name__}: {first['msg']}", field=where) from exc
