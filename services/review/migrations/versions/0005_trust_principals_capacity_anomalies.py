"""trust: who acted for a person, escalations over capacity, results per organisation, anomalies seen

Revision ID: 0005
Revises: 0004_web_sessions
Create Date: 2026-12-02 20:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from shared.migrations import rekey

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004_web_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("review_assignment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("via", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("over_capacity", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    rekey("outcome_seen", ["org_id", "result_id"])
    op.create_table(
        "anomaly_seen",
        sa.Column("org_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("anomaly_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("creator_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "anomaly_id"),
    )
    with op.batch_alter_table("anomaly_seen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anomaly_seen_creator_id"), ["creator_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("anomaly_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anomaly_seen_creator_id"))
    op.drop_table("anomaly_seen")
    rekey("outcome_seen", ["result_id"])
    with op.batch_alter_table("review_assignment", schema=None) as batch_op:
        batch_op.drop_column("over_capacity")
        batch_op.drop_column("via")
