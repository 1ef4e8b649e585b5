"""Database access with SQLModel: one engine per service, one transaction per request or message."""

from __future__ import annotations

import fcntl
import operator
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.sql import sqltypes
from sqlalchemy.types import TypeDecorator
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
    processors = _processors(conn.dialect, table, names)
    mark = _placeholder(conn.dialect)
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join([mark] * len(names))})"
    )
    if upsert_on:
        updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names if n not in upsert_on)
        sql += f" ON CONFLICT ({', '.join(quote(n) for n in upsert_on)}) DO UPDATE SET {updates}"
    copy_types = (
        _copy_types(table, names, conn.dialect)
        if conn.dialect.name == "postgresql" and len(rows) >= COPY_FROM
        else None
    )
    if copy_types is not None:
        processors = [_json_text(table.c[n].type) if t in JSON_TYPES else p
                      for n, t, p in zip(names, copy_types, processors, strict=True)]  # fmt: skip
    params = _bind_rows(rows, names, processors)
    if copy_types is None:
        conn.exec_driver_sql(sql, params)
    else:
        _copy_rows(conn, table.name, names, copy_types, params, upsert_on, quote)


def _bind_rows(
    rows: list[dict[str, Any]], names: list[str], processors: list[Callable[[Any], Any] | None]
) -> list[tuple[Any, ...]]:
    """Each row's values in column order, converted only in the columns whose type converts (a batch's
    rows share their timestamps, so each converter remembers its last value)."""
    if len(names) == 1:
        first = processors[0]
        convert = _memo(first) if first is not None else (lambda value: value)
        return [(convert(row[names[0]]),) for row in rows]
    get = operator.itemgetter(*names)
    active = [(i, _memo(p)) for i, p in enumerate(processors) if p is not None]
    if not active:
        return [get(row) for row in rows]
    out = []
    for row in rows:
        values = list(get(row))
        for i, convert in active:
            values[i] = convert(values[i])
        out.append(tuple(values))
    return out


# A batch this size or larger goes through COPY on PostgreSQL: binding and sending every row of an
# executemany cost ~15 us of Python per row (two inserts were a quarter of a stream event's cost), COPY's
# binary rows ~3 us. Below it, COPY's extra statements cost more than they save.
COPY_FROM = 32
JSON_TYPES = ("json", "jsonb")

# COPY's binary format must match the column's type exactly (int4 is not int8), so each supported column
# type names its own; any other type keeps executemany.
_COPY_TYPE: list[tuple[type[Any], str]] = [
    (sqltypes.SmallInteger, "int2"), (sqltypes.BigInteger, "int8"), (sqltypes.Integer, "int4"),
    (sqltypes.Float, "float8"), (sqltypes.Boolean, "bool"), (sqltypes.Date, "date"),
    (sqltypes.String, "text"), (sqltypes.JSON, "json"), (sqltypes.LargeBinary, "bytea"),
]  # fmt: skip


def _copy_types(table: Any, names: list[str], dialect: Any) -> list[str] | None:
    """Each column's PostgreSQL type for COPY ("json"/"jsonb" travel as text), or None if one has none."""
    types = []
    for name in names:
        column_type = table.c[name].type.dialect_impl(dialect)  # a variant resolves to its PostgreSQL type
        if isinstance(column_type, TypeDecorator):
            column_type = column_type.impl_instance
        if isinstance(column_type, sqltypes.DateTime):
            types.append("timestamptz" if column_type.timezone else "timestamp")
        elif isinstance(column_type, postgresql.JSONB):
            types.append("jsonb")
        elif isinstance(column_type, sqltypes.Enum | sqltypes.ARRAY) or (
            isinstance(column_type, sqltypes.Float) and column_type.precision is not None  # real(n)
        ):
            return None
        else:
            found = next((pg for cls, pg in _COPY_TYPE if isinstance(column_type, cls)), None)
            if found is None:
                return None
            types.append(found)
    return types


def _json_text(column_type: Any) -> Callable[[Any], str | None]:
    """A JSON column's value as JSON text (COPY sends it as text; see `_copy_rows`); None is JSON null
    unless the column stores it as SQL NULL, as SQLAlchemy's JSON type does."""
    none = None if getattr(column_type, "none_as_null", False) else "null"
    return lambda value: none if value is None else _dumps(value)


def _copy_rows(
    conn: Any,
    table: str,
    names: list[str],
    types: list[str],
    params: list[tuple[Any, ...]],
    upsert_on: tuple[str, ...],
    quote: Callable[[str], str],
) -> None:
    """Rows through binary COPY; with JSON columns or an upsert, through a temporary stage table whose
    JSON columns are text (psycopg's binary json dumper would re-encode our JSON text as a string), then
    one INSERT ... SELECT (ON CONFLICT DO UPDATE for an upsert, the last row of a key winning)."""
    cursor = conn.connection.driver_connection.cursor()
    columns = ", ".join(quote(n) for n in names)
    wire = ["text" if t in JSON_TYPES else t for t in types]
    staged = bool(upsert_on) or any(t in JSON_TYPES for t in types)
    # One stage per table and column list: callers may write different columns of one table.
    target = quote(f"_stage_{table}_{zlib.crc32(columns.encode()):08x}") if staged else quote(table)
    if staged:
        defs = ", ".join(f"{quote(n)} {t}" for n, t in zip(names, wire, strict=True))
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {target} ({defs}) ON COMMIT DELETE ROWS")
        if upsert_on:  # one INSERT may not update a row twice; executemany let the last row of a key win
            key = operator.itemgetter(*(names.index(k) for k in upsert_on))  # C-level, not a tuple per row
            params = list({key(row): row for row in params}.values())
    with cursor.copy(f"COPY {target} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(wire)
        for row in params:
            copy.write_row(row)
    if not staged:
        return
    select = ", ".join(
        f"{quote(n)}::{t}" if t in JSON_TYPES else quote(n) for n, t in zip(names, types, strict=True)
    )
    sql = f"INSERT INTO {quote(table)} ({columns}) SELECT {select} FROM {target}"
    if upsert_on:
        updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names if n not in upsert_on)
        sql += f" ON CONFLICT ({', '.join(quote(n) for n in upsert_on)}) DO UPDATE SET {updates}"
    # The stage outlives this statement within the transaction, so it is emptied; both statements go in
    # one round trip (psycopg sends a parameterless execute as one simple query).
    cursor.execute(f"{sql}; DELETE FROM {target}")


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
    columns = [*names, *key]
    conn.exec_driver_sql(sql, _bind_rows(rows, columns, _processors(conn.dialect, table, columns)))


def _placeholder(dialect: Any) -> str:
    return {"qmark": "?", "format": "%s", "pyformat": "%s"}[str(dialect.paramstyle)]


def _processors(dialect: Any, table: Any, names: list[str]) -> list[Callable[[Any], Any] | None]:
    """Each column's bind processor (JSON, datetimes, dates); most columns (strings, numbers) have none."""
    return [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]


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
