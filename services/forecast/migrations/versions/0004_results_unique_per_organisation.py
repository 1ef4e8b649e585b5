"""results unique per organisation

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 20:05:00.000000

A client-supplied result_id was a global key: one organisation could learn or pre-claim another's ids
and silently drop its results. Results and their scored outcomes are now keyed by (org_id, result_id).
"""

from collections.abc import Sequence

from shared.migrations import rekey

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    rekey("campaign_result", ["org_id", "result_id"])
    rekey("forecast_outcome", ["org_id", "result_id"])


def downgrade() -> None:
    """Downgrade schema (fails if two organisations now share a result_id)."""
    rekey("forecast_outcome", ["result_id"])
    rekey("campaign_result", ["result_id"])
