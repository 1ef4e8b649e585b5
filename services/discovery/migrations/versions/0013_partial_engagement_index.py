"""market engagement index holds the top quarter; the share index includes engagement

ix_creator_market_er held every market row (3.4 per creator) and cost a bulk ingest as much as the share
index: a B-tree descent per row into an index that outgrows the buffer cache. At 1M creators, ingesting
the next 50k spent 28-45 us of PostgreSQL CPU per creator on it (server CPU with and without it, stock
128 MB and 2 GB shared_buffers). Now it holds only rows with engagement of 0.05 or more (the top quarter
of the benchmark's market rows), the thresholds that select few rows; a lower threshold matches most rows
of its markets and is read from ix_creator_market_share's market ranges, which now include engagement
(index-only, stopping once search.market_filters_are_dense has its count). PostgreSQL only: SQLite keeps
the full engagement index.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 10:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ER_INDEX, SHARE_INDEX = "ix_creator_market_er", "ix_creator_market_share"
ER_KEYS = ["org_id", "market", "engagement_rate", "creator_id"]
SHARE_KEYS = ["org_id", "market", "audience_share", "creator_id"]
SHARE_INCLUDE = ["platform_mask", "category_mask", "fraud_risk", "followers", "share_known"]
INDEXED_FROM = "0.05"  # models.ENGAGEMENT_INDEXED_FROM when this was written


def _indexes(er_where: str | None, share_include: list[str]) -> None:
    op.drop_index(ER_INDEX, table_name="creator_market")
    where = sa.text(er_where) if er_where else None
    op.create_index(ER_INDEX, "creator_market", ER_KEYS, unique=False, postgresql_where=where)
    op.drop_index(SHARE_INDEX, table_name="creator_market")
    op.create_index(SHARE_INDEX, "creator_market", SHARE_KEYS, unique=False, postgresql_include=share_include)


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        _indexes(f"engagement_rate >= {INDEXED_FROM}", [*SHARE_INCLUDE, "engagement_rate"])


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        _indexes(None, SHARE_INCLUDE)
