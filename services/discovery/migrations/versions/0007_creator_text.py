"""creator text search

The text people type to find a creator: handles, name, bio and recent posts, one row per creator. On
SQLite an FTS5 table with the trigram tokenizer (substrings and misspellings share trigrams); on
PostgreSQL a plain table with a full-text GIN index and, where pg_trgm is available, trigram indexes on
handles and names.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 21:15:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE creator_text USING fts5(org_id UNINDEXED, creator_id UNINDEXED, "
            "handles, name, body, tokenize='trigram')"
        )
        return
    op.create_table(
        "creator_text",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("creator_id", sa.String(64), nullable=False),
        sa.Column("handles", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "creator_id"),
    )
    op.execute(
        "CREATE INDEX ix_creator_text_fts ON creator_text "
        "USING gin (to_tsvector('simple', name || ' ' || body))"
    )
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first()
    if available:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_creator_text_handles ON creator_text USING gin (handles gin_trgm_ops)")
        op.execute("CREATE INDEX ix_creator_text_name ON creator_text USING gin (lower(name) gin_trgm_ops)")


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TABLE creator_text")
