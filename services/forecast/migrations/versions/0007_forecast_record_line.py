"""forecast_record.line_id: the plan line a forecast was made for (planned format, day and hour)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 03:45:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("forecast_record") as batch:
        batch.add_column(sa.Column("line_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("forecast_record") as batch:
        batch.drop_column("line_id")
