"""measured_on and audience markets of unknown share

When a creator's figures were measured (newer wins, freshness shows it), and creator_market rows for the
top audience country a source names without measuring its share.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 21:05:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("creator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("measured_on", sa.Date(), nullable=True))
    with op.batch_alter_table("creator_market", schema=None) as batch_op:
        batch_op.add_column(sa.Column("share_known", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("creator_market", schema=None) as batch_op:
        batch_op.drop_column("share_known")
    with op.batch_alter_table("creator", schema=None) as batch_op:
        batch_op.drop_column("measured_on")
