"""engagement walk over creators of 10k followers and more

A partial copy of ix_creator_org_engagement holding only creators with at least 10,000 followers (every
tier but nano), for searches that sort by engagement under a size floor. Engagement falls with size, so
the full index's top is nano accounts a floor rejects: one page of "instagram, micro/mid, beauty/fashion,
US >= 30%, by engagement" walked 138k index rows (50k buffers) at 1M creators; this index holds 28% of the
creators and the same page walks 10k of them (EXPLAIN ANALYZE). PostgreSQL only: the SQLite default keeps
the one engagement index.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_creator_org_engagement_sized"
INCLUDE = ["platform_mask", "category_mask", "language_mask", "fraud_risk", "price_usd", "max_market_er",
           "past_campaigns", "female_share", "followers"]  # fmt: skip


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(INDEX, "creator", ["org_id", "engagement_rate", "creator_id"], unique=False,
                    postgresql_include=INCLUDE, postgresql_where=sa.text("followers >= 10000"))  # fmt: skip


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(INDEX, table_name="creator")
