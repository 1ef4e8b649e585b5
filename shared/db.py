"""Database access with SQLModel: one engine per service, one transaction per request or message."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine


def make_engine(url: str) -> Engine:
    """An engine tuned for the backend: SQLite for zero setup, PostgreSQL for tests and production."""
    if url.startswith("sqlite"):
        # The consumer thread, the outbox relay and request handlers share the file; WAL lets readers
        # run beside the writer and busy_timeout makes writers queue instead of failing.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **_JSON_CODEC)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **_JSON_CODEC)


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# JSON columns through orjson: the standard library encoder was a tenth of a consumer's time.
_JSON_CODEC: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}


def _memo(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A bind processor that converts a repeated value once: a batch's rows share their timestamps."""
    last: list[Any] = [object(), None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return convert


def insert_many(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]], upsert_on: tuple[str, ...] = ()
) -> None:
    """Insert plain rows (all with the same keys) with one driver-level executemany, in the session's
    transaction; with `upsert_on` (the primary key's columns), a row whose key exists replaces the
    stored values instead (ON CONFLICT DO UPDATE: PostgreSQL and SQLite alike).

    Column types still convert each value (JSON, aware datetimes), but once per value rather than
    through SQLAlchemy's per-row statement machinery, which cost more than the database's own work.
    """
    if not rows:
        return
    conn = session.connection()
    quote = conn.dialect.identifier_preparer.quote
    table = model.__table__  # type: ignore[attr-defined]
    names = list(rows[0])
    mark = _placeholder(conn.dialect)
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join([mark] * len(names))})"
    )
    if upsert_on:
        updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names if n not in upsert_on)
        sql += f" ON CONFLICT ({', '.join(quote(n) for n in upsert_on)}) DO UPDATE SET {updates}"
    conn.exec_driver_sql(sql, _params(conn.dialect, table, names, rows))


def update_many(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]], key: tuple[str, ...]
) -> None:
    """Update stored rows (all with the same keys; `key` names the primary key's columns) with one
    driver-level executemany, converting values as insert_many does. Columns not in the rows keep their
    values."""
    if not rows:
        return
    conn = session.connection()
    quote = conn.dialect.identifier_preparer.quote
    table = model.__table__  # type: ignore[attr-defined]
    names = [n for n in rows[0] if n not in key]
    mark = _placeholder(conn.dialect)
    sql = (
        f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(n)} = {mark}' for n in names)} "
        f"WHERE {' AND '.join(f'{quote(n)} = {mark}' for n in key)}"
    )
    conn.exec_driver_sql(sql, _params(conn.dialect, table, [*names, *key], rows))


def _placeholder(dialect: Any) -> str:
    return {"qmark": "?", "format": "%s", "pyformat": "%s"}[str(dialect.paramstyle)]


def _params(dialect: Any, table: Any, names: list[str], rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row's values in `names` order, converted where the column type has a bind processor (JSON,
    datetimes, dates); most columns (strings, numbers) have none and are passed as they are."""
    convert = []
    for i, n in enumerate(names):
        process = table.c[n].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            convert.append((i, _memo(process)))
    out = []
    for row in rows:
        values = [row[n] for n in names]
        for i, process in convert:
            values[i] = process(values[i])
        out.append(tuple(values))
    return out


def existing(session: Session, model: type[SQLModel], column: str, values: list[str]) -> set[str]:
    """Which of `values` are stored in `column`, in one query on the session's connection.

    PostgreSQL gets the values as one array (`= ANY(%s)`); binding a poll's few hundred placeholders
    through SQLAlchemy's expanding IN cost more than the lookup. SQLite gets a plain IN list.
    """
    if not values:
        return set()
    conn = session.connection()
    quote = conn.dialect.identifier_preparer.quote
    table, name = quote(model.__table__.name), quote(column)  # type: ignore[attr-defined]
    if conn.dialect.name == "postgresql":
        result = conn.exec_driver_sql(f"SELECT {name} FROM {table} WHERE {name} = ANY(%s)", (values,))
    else:
        marks = ", ".join("?" * len(values))
        result = conn.exec_driver_sql(f"SELECT {name} FROM {table} WHERE {name} IN ({marks})", tuple(values))
    return {row[0] for row in result}


class Database:
    """The service's engine and its unit of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def close(self) -> None:
        self.engine.dispose()


def alembic_config(url: str, script_location: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# Any fixed 64-bit number: the key of the PostgreSQL advisory lock that serialises migrations.
MIGRATION_LOCK_KEY = 0x7A4D_3E1C


def migrate(url: str, script_location: Path) -> None:
    """Bring the schema to the newest migration (the production path; never `create_all`).

    On PostgreSQL, replicas starting together (init containers, `--scale`) take an advisory lock, so
    one migrates and the others then find the schema at head.
    """
    cfg = alembic_config(url, script_location)
    # Every head: changes developed side by side each add a migration after the same parent, and all
    # of them apply (their tables are independent) without a merge revision.
    if url.startswith("sqlite:///"):
        # Services sharing one SQLite file (the identity database) start together: a file lock
        # stands in for PostgreSQL's advisory lock.
        lock_path = Path(url.removeprefix("sqlite:///") + ".migrate.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            command.upgrade(cfg, "heads")
        return
    if not url.startswith("postgresql"):
        command.upgrade(cfg, "heads")
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            try:
                conn.commit()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()
