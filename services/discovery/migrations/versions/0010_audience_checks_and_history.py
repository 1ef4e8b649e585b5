"""audience checks and creator history

The newest audience check fraud made of each creator (fraud.audience_checked) and one row per account
and measurement date, for the audience report and its follower/engagement history.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 03:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audience_check",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("creator_id", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("fake_share", sa.Float(), nullable=True),
        sa.Column("fake_share_low", sa.Float(), nullable=False),
        sa.Column("fake_share_high", sa.Float(), nullable=False),
        sa.Column("follower_types", sa.JSON(), nullable=False),
        sa.Column("audience_quality_score", sa.Integer(), nullable=True),
        sa.Column("breakdowns", sa.JSON(), nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("measured_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "creator_id"),
    )
    op.create_table(
        "creator_metric",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("creator_id", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("followers", sa.Integer(), nullable=False),
        sa.Column("engagement_rate", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "creator_id", "platform", "measured_on"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("creator_metric")
    op.drop_table("audience_check")
