"""ranking outcomes: shortlist-time feature rows, outcomes, retrain runs

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
    op.create_table(
        "shortlist_features",
        sa.Column("org_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("creator_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("shortlist_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("match_score", sa.Float(), nullable=False),
        sa.Column("model_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("feature_names", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "campaign_id", "creator_id"),
    )
    op.create_table(
        "ranking_outcome",
        sa.Column("org_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("creator_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("outcome_vs_forecast", sa.Float(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "campaign_id", "creator_id"),
    )
    with op.batch_alter_table("ranking_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ranking_outcome_recorded_at"), ["recorded_at"], unique=False)

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
    with op.batch_alter_table("ranking_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ranking_outcome_recorded_at"))
    op.drop_table("ranking_outcome")
    op.drop_table("shortlist_features")
