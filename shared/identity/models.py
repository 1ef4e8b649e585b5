"""Identity tables: organisations (brands, agencies) and their API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, LargeBinary
from sqlmodel import Field, SQLModel


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    org_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    created_at: datetime


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    key_id: str = Field(primary_key=True, max_length=32)
    org_id: str = Field(index=True, max_length=64, foreign_key="organisation.org_id")
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    secret_sha256: str = Field(
        max_length=64, description="Hash of the secret part; the key itself is never stored."
    )
    created_at: datetime
    expires_at: datetime | None = Field(
        default=None, description="Set when the key is rotated or given a lifetime."
    )
    revoked_at: datetime | None = None
    replaced_by: str | None = Field(default=None, max_length=32)
    person: str | None = Field(
        default=None,
        max_length=100,
        description="The person the key acts as; judgements are recorded as them.",
    )


class KeyRevocation(SQLModel, table=True):
    """One row: bumped by every key revocation or rotation, so every process's key cache can tell it
    is stale (shared.identity.revocation)."""

    __tablename__ = "key_revocation"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0, sa_type=BigInteger)


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a POST with an Idempotency-Key, replayed to every retry of it."""

    __tablename__ = "idempotency_record"

    caller: str = Field(primary_key=True, max_length=64, description="Hash of the caller's credential.")
    key: str = Field(primary_key=True, max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    fingerprint: str = Field(max_length=64, description="Hash of method, path and body.")
    status_code: int | None = Field(default=None, description="None while the first request is in flight.")
    owner: str = Field(
        default="", max_length=32, description="The request that holds the key (a random token)."
    )
    lease_until: datetime | None = Field(
        default=None, description="While in flight: when a retry may take the key over (the owner renews it)."
    )
    headers: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    body: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(index=True)
