"""people with several accounts, and every version of a creator's figures

person_member links catalogue creators (accounts) into one person, with how (cross-link, handle, name,
a person's decision), how sure, and who decided; person_split records a person's "not the same" so the
linker never joins them again. creator_version keeps each differing version of a creator's figures with
its measurement date, so a conflict between two sources loses neither.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 03:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str) -> sa.Column[str]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)


def _at(name: str) -> sa.Column[str]:
    return sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "person_member",
        _id("org_id"),
        _id("creator_id"),
        _id("person_id"),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("evidence", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        _at("decided_at"),
        sa.PrimaryKeyConstraint("org_id", "creator_id"),
    )
    op.create_index("ix_person_member_person", "person_member", ["org_id", "person_id"], unique=False)
    op.create_table(
        "person_split",
        _id("org_id"),
        _id("creator_id"),
        _id("other_id"),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        _at("decided_at"),
        sa.PrimaryKeyConstraint("org_id", "creator_id", "other_id"),
    )
    op.create_table(
        "creator_version",
        _id("org_id"),
        _id("creator_id"),
        _id("content_hash"),
        sa.Column("measured_on", sa.Date(), nullable=True),
        _at("received_at"),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "creator_id", "content_hash"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("creator_version")
    op.drop_table("person_split")
    op.drop_index("ix_person_member_person", table_name="person_member")
    op.drop_table("person_member")
