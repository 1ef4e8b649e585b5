"""Alembic environment of the fraud service: its tables plus the bus tables."""

from sqlmodel import SQLModel

import services.fraud.models  # noqa: F401  (registers the service's tables)
import shared.bus.tables  # noqa: F401
from shared.migrations import run

run(SQLModel.metadata)
