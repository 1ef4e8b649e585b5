"""campaign plans: campaigns, approved creators, plan versions, line results, alerts, retrospectives, insights

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:45:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "forecast_campaign",
        sa.Column("org_id", S(length=64), nullable=False),
        sa.Column("campaign_id", S(length=64), nullable=False),
        sa.Column("name", S(length=200), nullable=False),
        sa.Column("brand", S(length=200), nullable=False),
        sa.Column("objective", S(length=16), nullable=False),
        sa.Column("category", S(length=64), nullable=False),
        sa.Column("markets", sa.JSON(), nullable=False),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("budget_usd", sa.Float(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("opened_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "campaign_id"),
    )
    op.create_table(
        "forecast_campaign_creator",
        sa.Column("org_id", S(length=64), nullable=False),
        sa.Column("campaign_id", S(length=64), nullable=False),
        sa.Column("creator_id", S(length=64), nullable=False),
        sa.Column("platform", S(length=16), nullable=False),
        sa.Column("decision", S(length=16), nullable=False),
        sa.Column("decided_by", S(length=128), nullable=False),
        sa.Column("automated", sa.Boolean(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("target_markets", sa.JSON(), nullable=False),
        sa.Column("decided_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "campaign_id", "creator_id", "platform"),
    )
    op.create_table(
        "plan_version",
        sa.Column("org_id", S(length=64), nullable=False),
        sa.Column("campaign_id", S(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("total_cost_usd", sa.Float(), nullable=False),
        sa.Column("changed_by", S(length=128), nullable=False),
        sa.Column("change", S(length=2000), nullable=False),
        sa.Column("why", S(length=2000), nullable=False),
        sa.Column("approved_by", S(length=128), nullable=True),
        sa.Column("approved_at", T(), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "campaign_id", "version"),
    )
    op.create_table(
        "plan_line_result",
        sa.Column("result_id", S(length=64), nullable=False),
        sa.Column("org_id", S(length=64), nullable=False),
        sa.Column("campaign_id", S(length=64), nullable=False),
        sa.Column("line_id", S(length=64), nullable=False),
        sa.Column("creator_id", S(length=64), nullable=False),
        sa.Column("variant_id", S(length=64), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("spend_usd", sa.Float(), nullable=False),
        sa.Column("posted_at", T(), nullable=False),
        sa.Column("received_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("result_id"),
    )
    with op.batch_alter_table("plan_line_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_line_result_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_line_result_org_id"), ["org_id"], unique=False)
    op.create_table(
        "plan_alert",
        sa.Column("org_id", S(length=64), nullable=False),
        sa.Column("campaign_id", S(length=64), nullable=False),
        sa.Column("line_id", S(length=64), nullable=False),
        sa.Column("metric", S(length=32), nullable=False),
        sa.Column("actual", sa.Float(), nullable=False),
        sa.Column("p10", sa.Float(), nullable=False),
        sa.Column("p50", sa.Float(), nullable=False),
        sa.Column("detected_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "campaign_id", "line_id", "metric"),
    )
    op.create_table(
        "forecast_retrospective",
        sa.Column("org_id", S(length=64), nullable=False),
        sa.Column("campaign_id", S(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("closed_by", S(length=128), nullable=False),
        sa.Column("computed_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "campaign_id"),
    )
    op.create_table(
        "forecast_insight",
        sa.Column("insight_id", S(length=64), nullable=False),
        sa.Column("org_id", S(length=64), nullable=False),
        sa.Column("kind", S(length=8), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("recorded_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("insight_id"),
    )
    with op.batch_alter_table("forecast_insight", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forecast_insight_org_id"), ["org_id"], unique=False)
    with op.batch_alter_table("forecast_adjustment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("insight_id", S(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("forecast_adjustment", schema=None) as batch_op:
        batch_op.drop_column("insight_id")
    with op.batch_alter_table("forecast_insight", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forecast_insight_org_id"))
    op.drop_table("forecast_insight")
    op.drop_table("forecast_retrospective")
    op.drop_table("plan_alert")
    with op.batch_alter_table("plan_line_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_line_result_org_id"))
        batch_op.drop_index(batch_op.f("ix_plan_line_result_campaign_id"))
    op.drop_table("plan_line_result")
    op.drop_table("plan_version")
    op.drop_table("forecast_campaign_creator")
    op.drop_table("forecast_campaign")
