"""Alembic environment of the forecast service: its tables plus the bus tables."""

from sqlmodel import SQLModel

import services.forecast.models  # noqa: F401  (registers the service's tables)
import shared.bus.tables  # noqa: F401
from shared.migrations import run

run(SQLModel.metadata)
