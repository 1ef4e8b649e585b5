"""Tables every service's database carries for the bus: the outbox and the processed-event ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel


class OutboxMessage(SQLModel, table=True):
    """An event written in the same transaction as the change it announces; the relay publishes it."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=200)
    key: str = Field(max_length=200)
    event_id: str = Field(max_length=64, unique=True)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    published_at: datetime | None = Field(default=None, index=True)


class ProcessedEvent(SQLModel, table=True):
    """An event this service has applied; its presence makes redelivery a no-op."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    topic: str = Field(max_length=200)
    event_type: str = Field(max_length=100)
    processed_at: datetime
