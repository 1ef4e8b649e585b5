"""Inbound webhooks from partners: verify signature and timestamp, apply once, record with the change.

A service's route calls `receive` (verify and parse; nothing is written) and then `apply_once`, which
records the webhook-id in the service's own database in the same transaction as the change the body
makes. A body refused with a 4xx, or a change that fails, rolls the record back with it, so the
partner's corrected retry under the same webhook-id is applied rather than dropped as a replay.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from shared.db import Database
from shared.errors import Invalid, Unauthorized
from shared.input_limits import validated
from shared.webhooks.models import InboundMessage, InboundSource
from shared.webhooks.signing import WebhookVerificationError, new_secret, verify

WEBHOOK_ID_MAX_LENGTH = 200  # InboundMessage.webhook_id's column

Body = TypeVar("Body", bound=BaseModel)
Result = TypeVar("Result")


@dataclass(frozen=True)
class Inbound(Generic[Body]):
    """A verified, parsed webhook not yet applied."""

    source_id: str
    webhook_id: str
    org_id: str
    body: Body


def register_source(edge: Database, org_id: str, name: str) -> tuple[str, str]:
    """A partner source for an organisation; returns (source_id, secret) — the secret is shown once."""
    source_id, secret = f"src_{secrets.token_hex(8)}", new_secret()
    with edge.transaction() as s:
        s.add(InboundSource(source_id=source_id, org_id=org_id, name=name, secrets=[secret],
                            created_at=datetime.now(UTC)))  # fmt: skip
    return source_id, secret


def verified(
    edge: Database, source_id: str, headers: dict[str, str], body: bytes, tolerance_s: int = 300
) -> tuple[str, str]:
    """Check the signature and timestamp; returns (org_id, webhook_id).

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
    if len(webhook_id) > WEBHOOK_ID_MAX_LENGTH:
        raise Invalid(f"webhook-id is {len(webhook_id)} characters; at most {WEBHOOK_ID_MAX_LENGTH} are "
                      "accepted", field="webhook-id")  # fmt: skip
    return source.org_id, webhook_id


def receive(
    edge: Database,
    source_id: str,
    headers: dict[str, str],
    body: bytes,
    schema: type[Body],
    document: Any = None,
    verified_as: tuple[str, str] | None = None,
) -> Inbound[Body]:
    """Verify a webhook and parse its body (or validate `document`, the body the input limits already
    parsed: shared.input_limits.json_body); a body that does not fit is a 422 naming the field.
    `verified_as` is the (org_id, webhook_id) the route's access check already verified for this very
    request (shared.orgs.checked_webhook): the signature is not checked a second time."""
    org_id, webhook_id = verified_as or verified(edge, source_id, headers, body)
    try:
        parsed = validated(schema, body if document is None else document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise Invalid(f"webhook body is not a valid {schema.__name__}: {first['msg']}", field=where) from exc
    if (nul_at := nul_path(parsed.model_dump())) is not None:
        raise Invalid("text contains a NUL character (\\u0000), which cannot be stored; remove it",
                      field=nul_at or "body")  # fmt: skip
    return Inbound(source_id=source_id, webhook_id=webhook_id, org_id=org_id, body=parsed)


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first text holding a NUL character ("" for the top level), else None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    for key, item in items:
        here = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return here
        if (found := nul_path(item, here)) is not None:
            return found
    return None


def apply_once(
    db: Database, inbound: Inbound[Body], apply: Callable[[Session, str, Body], Result]
) -> Result | None:
    """Apply the body and record its webhook-id in one transaction of `db`; None for a replay.

    The record is written first, so a concurrent delivery of the same id waits on its key and then
    fails; it is answered as the replay it is once the first one has committed.
    """
    try:
        with db.transaction() as s:
            if _recorded(s, inbound):
                return None
            s.add(InboundMessage(source_id=inbound.source_id, webhook_id=inbound.webhook_id,
                                 received_at=datetime.now(UTC)))  # fmt: skip
            s.flush()
            return apply(s, inbound.org_id, inbound.body)
    except IntegrityError:
        with db.transaction() as s:
            if _recorded(s, inbound):
                return None
        raise


def _recorded(session: Session, inbound: Inbound[Any]) -> bool:
    return session.get(InboundMessage, (inbound.source_id, inbound.webhook_id)) is not None
