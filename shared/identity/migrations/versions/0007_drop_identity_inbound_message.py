"""drop the identity database's inbound_message table

Inbound webhook-ids have been recorded in each receiving service's own database since discovery 0008 and
forecast 0006 (applied with the change they make, shared.webhooks.inbound.apply_once); the identity
database's table has been written and read by nothing since. Its rows are not copied: a partner's replay
of one of those ids is applied again, which the receiving upserts make a no-op. Downgrade recreates it
empty, as 0003 made it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:00:00.000000

"""

from collections.abc import Sequence

from shared.webhooks import inbound_schema

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    inbound_schema.drop_table()


def downgrade() -> None:
    """Downgrade schema: the table as 0003 made it (and as every receiving service has it), empty."""
    inbound_schema.create_table()
