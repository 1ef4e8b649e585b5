"""webhook deliveries claimed one at a time under a lease

Deliveries were claimed in batches of 50 by pushing next_attempt_at 30 s out while each send could take
10 s, so another worker re-claimed the tail and slow partners got duplicates. Now each delivery is
claimed right before its send with a lease longer than the send and a token the sender re-checks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 04:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_until", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("claim_token", AutoString(length=16), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_column("claim_token")
        batch_op.drop_column("claimed_until")
