"""Webhook tables. Outbound ones and the inbound sources live in the identity ("edge") database every
service shares; `InboundMessage` lives in the database of each service that receives webhooks, so it
commits together with what the webhook changed.

One row per endpoint, one per delivery (an event for an endpoint) and one per attempt, so a partner
can see exactly what was sent when, and what their server answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.webhooks.vault import SealedJSON


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    endpoint_id: str = Field(primary_key=True, max_length=40)
    org_id: str = Field(index=True, max_length=64)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # [{"secret": "whsec_...", "expires_at": iso | None}]: two are active during a rotation. Encrypted at
    # rest (shared.webhooks.vault).
    secrets: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(SealedJSON, nullable=False))
    enabled: bool = True
    disabled_reason: str = Field(default="", max_length=500)
    consecutive_failures: int = 0
    failing_since: datetime | None = Field(default=None, description="First failure since the last success.")
    created_at: datetime


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id", name="uq_delivery_per_event"),)

    delivery_id: str = Field(primary_key=True, max_length=40, description="Sent as webhook-id.")
    endpoint_id: str = Field(index=True, max_length=40)
    org_id: str = Field(index=True, max_length=64)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=100)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(
        default="pending", index=True, max_length=16, description="pending | succeeded | failed"
    )
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, index=True)
    claimed_until: datetime | None = Field(
        default=None,
        description="While an attempt is under way: when its claim lapses (shared.webhooks.claims).",
    )
    claim_token: str | None = Field(
        default=None, max_length=16, description="The claim of the attempt under way."
    )
    last_status_code: int | None = None
    created_at: datetime = Field(index=True)


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"

    attempt_id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(index=True, max_length=40)
    attempted_at: datetime
    status_code: int | None = None
    latency_ms: float
    response_excerpt: str = Field(default="", max_length=1000)
    error: str = Field(default="", max_length=500)


class InboundSource(SQLModel, table=True):
    """A partner platform allowed to send us webhooks for an organisation, with its signing secrets."""

    __tablename__ = "inbound_source"

    source_id: str = Field(primary_key=True, max_length=40)
    org_id: str = Field(index=True, max_length=64)
    name: str = Field(max_length=200)
    secrets: list[str] = Field(default_factory=list, sa_column=Column(SealedJSON, nullable=False))
    created_at: datetime


class InboundMessage(SQLModel, table=True):
    """Every applied inbound webhook-id, in the receiving service's database (written in the transaction
    that applied the body): a second arrival of the same id is a replay and changes nothing."""

    __tablename__ = "inbound_message"

    source_id: str = Field(primary_key=True, max_length=40)
    webhook_id: str = Field(primary_key=True, max_length=200)
    received_at: datetime = Field(index=True)
