"""The `inbound_message` table in a service's own database: the migration steps every receiving service
runs (the table is the same everywhere, see `InboundMessage`)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

TABLE = "inbound_message"


def create_table() -> None:
    op.create_table(
        TABLE,
        sa.Column("source_id", AutoString(length=40), nullable=False),
        sa.Column("webhook_id", AutoString(length=200), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "webhook_id"),
    )
    op.create_index(op.f(f"ix_{TABLE}_received_at"), TABLE, ["received_at"], unique=False)


def drop_table() -> None:
    op.drop_index(op.f(f"ix_{TABLE}_received_at"), table_name=TABLE)
    op.drop_table(TABLE)
