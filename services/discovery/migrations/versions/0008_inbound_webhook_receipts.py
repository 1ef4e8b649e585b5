"""inbound webhook receipts: the webhook-ids this service applied, committed with what they changed

Until now the ids were recorded in the identity database before the body was applied, so a body refused
with a 4xx or 500 burned its id and the partner's corrected retry was dropped as a replay. Ids recorded
there are not copied: a replay of one is applied again, which the upsert makes a no-op.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 03:40:00.000000

"""

from collections.abc import Sequence

# The same table in every receiving service: the steps are shared.
from shared.webhooks.inbound_schema import create_table as upgrade
from shared.webhooks.inbound_schema import drop_table as downgrade

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


__all__ = ["downgrade", "upgrade"]
