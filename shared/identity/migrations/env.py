"""Alembic environment of the identity database (organisations, API keys)."""

from sqlmodel import SQLModel

import shared.identity.models  # noqa: F401  (registers the tables)
from shared.migrations import run

run(SQLModel.metadata)
