"""fraud evidence on creators

The last audience check (fake share, quality) and the highest open anomaly severity on the creator row,
and the anomalies themselves until a person dismisses them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 21:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("creator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fake_share", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("audience_quality", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("audience_checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("anomaly_severity", sa.Float(), nullable=True))
    op.create_table(
        "creator_anomaly",
        sa.Column("org_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("anomaly_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("creator_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("severity", sa.Float(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("detected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "anomaly_id"),
    )
    with op.batch_alter_table("creator_anomaly", schema=None) as batch_op:
        batch_op.create_index("ix_creator_anomaly_creator", ["org_id", "creator_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("creator_anomaly", schema=None) as batch_op:
        batch_op.drop_index("ix_creator_anomaly_creator")
    op.drop_table("creator_anomaly")
    with op.batch_alter_table("creator", schema=None) as batch_op:
        batch_op.drop_column("anomaly_severity")
        batch_op.drop_column("audience_checked_at")
        batch_op.drop_column("audience_quality")
        batch_op.drop_column("fake_share")
