"""Alembic environment of the identity ("edge") database: organisations, API keys, idempotency, webhooks."""

from sqlmodel import SQLModel

import shared.identity.models
import shared.webhooks.models  # noqa: F401
from shared.migrations import run

run(SQLModel.metadata)
