"""anomaly features at raise time, retrain runs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 12:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Anomalies raised before this revision have no stored features: their labels cannot train (null).
    with op.batch_alter_table("fraud_anomaly", schema=None) as batch_op:
        batch_op.add_column(sa.Column("features", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("features_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    op.create_table(
        "retrain_run",
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("model_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("train_rows", sa.Integer(), nullable=False),
        sa.Column("holdout_rows", sa.Integer(), nullable=False),
        sa.Column("champion_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("challenger_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("promoted", sa.Boolean(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )
    with op.batch_alter_table("retrain_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retrain_run_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("retrain_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retrain_run_started_at"))
    op.drop_table("retrain_run")
    with op.batch_alter_table("fraud_anomaly", schema=None) as batch_op:
        batch_op.drop_column("features_at")
        batch_op.drop_column("features")
