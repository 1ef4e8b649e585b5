"""Alembic environment of the review service: its tables plus the bus tables."""

from sqlmodel import SQLModel

import services.review.models  # noqa: F401  (registers the service's tables)
import shared.bus.tables  # noqa: F401
from shared.migrations import run

run(SQLModel.metadata)
