"""idempotency records with an owner and a lease

A request killed mid-way left its key "in progress" for 24 h; now the request holding the key renews a
lease, and a retry takes the key over once the lease has lapsed. Rows in flight at the upgrade have no
lease, so their retries take them over at once.

Revision ID: 0005
Revises: 0004_key_revocation
Create Date: 2026-12-03 03:55:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004_key_revocation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", AutoString(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("lease_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("owner")
