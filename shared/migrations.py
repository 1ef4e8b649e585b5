"""The body of every service's Alembic `env.py`: one implementation, each service passes its metadata."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData, engine_from_config, pool


def run(target_metadata: MetaData) -> None:
    """Run migrations offline (SQL script) or online (against `sqlalchemy.url`)."""
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=target_metadata,
            literal_binds=True,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    given = config.attributes.get("connection")
    if given is not None:  # the caller holds the migration lock on this connection
        context.configure(connection=given, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        # Batch mode lets the same migrations alter tables on SQLite, which lacks most ALTER TABLE forms.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


def rekey(table: str, primary_key: list[str]) -> None:
    """Give `table` a new primary key, e.g. a client-supplied id made unique per organisation
    (`["org_id", "result_id"]`): the table is copied under the new key (batch mode), on SQLite and
    PostgreSQL alike, keeping its rows and indexes. The key is named `pk_<table>` so it can be rekeyed back."""
    import warnings

    from alembic import op
    from sqlalchemy import exc, inspect

    name = f"pk_{table}"
    current = inspect(op.get_bind()).get_pk_constraint(table).get("name")
    # The copy is reflected with the old key columns marked primary; SQLAlchemy warns, then uses the new key.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", exc.SAWarning)
        with op.batch_alter_table(table, recreate="always") as batch_op:
            if current == name:
                batch_op.drop_constraint(name, type_="primary")
            batch_op.create_primary_key(name, primary_key)
