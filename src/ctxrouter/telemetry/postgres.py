"""A shared telemetry store on a PostgreSQL server (``pip install 'ctxrouter[postgres]'``).

Same tables, columns and migrations as the SQLite store, inside one schema of the database
(``ctxrouter`` unless told otherwise; created if missing), so several routers on several machines
can record into one place and analytics read it with the same SQL.

Connection: a :class:`PostgresStore` holds **one** connection (autocommit; writes in explicit
transactions), guarded by a lock, so any thread may call any method; calls are serialised within
one process. That fits the writer (the :class:`~ctxrouter.telemetry.recorder.Recorder` writes from
one background thread) and keeps a router to one server connection. A connection the server
dropped (restart, idle timeout) fails the call that finds it dropped; the next call reconnects.

Writes: :meth:`~PostgresStore.write_events` sends a batch with one binary ``COPY ... FROM STDIN``
in one transaction (all or none). PostgreSQL text cannot hold U+0000: a batch whose text holds
one is written with it replaced by U+FFFD, rather than refused forever (the recorder would retry
it on every flush).

Schema: the migrations of :mod:`ctxrouter.telemetry.migrations`, applied when the store opens by
:func:`~ctxrouter.telemetry.migrate.migrate`, under an advisory lock (two routers starting
together migrate once). What every SQL store does alike is in
:class:`~ctxrouter.telemetry.sqlstore.SQLStore`; this module keeps what is PostgreSQL's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow

from ctxrouter.errors import ConfigError
from ctxrouter.telemetry.event import Event
from ctxrouter.telemetry.imports import UPSERT_FILE
from ctxrouter.telemetry.migrate import migrate
from ctxrouter.telemetry.schema import Dialect, Type
from ctxrouter.telemetry.sqlstore import (
    COLUMNS,
    EVENT_COLUMNS,
    FEEDBACK_COLUMNS,
    UPDATE_EVENT,
    Row,
    SQLStore,
    event_rows,
)

Connection = psycopg.Connection[TupleRow]

# The COPY column types: the binary formats of the columns' PostgreSQL types.
_BINARY = {Type.TEXT: "text", Type.INTEGER: "int8", Type.REAL: "float8", Type.BOOLEAN: "bool"}
_COPY_TYPES = [_BINARY[column.type] for column in EVENT_COLUMNS]
_COPY = f"COPY events ({COLUMNS}) FROM STDIN (FORMAT BINARY)"
_NUL, _REPLACEMENT = "\x00", "\ufffd"
# Imports: COPY into a temporary table (its rows numbered, to keep their order), then INSERT
# ... ON CONFLICT DO NOTHING into events: COPY itself cannot skip rows that are stored already.
_STAGE = "_ctxrouter_import"
_STAGE_CREATE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS AS"
    f" SELECT 0::bigint AS ord, {COLUMNS} FROM events WITH NO DATA"
)
_STAGE_COPY = f"COPY {_STAGE} (ord, {COLUMNS}) FROM STDIN (FORMAT BINARY)"
_STAGE_INSERT = (
    f"INSERT INTO events ({COLUMNS}) SELECT {COLUMNS} FROM {_STAGE} ORDER BY ord"
    " ON CONFLICT (event_id) DO NOTHING"
)
_CONNECT_TIMEOUT_S = 10


class _NumericLoader(Loader):
    """``numeric`` as ``int`` when whole, else ``float``: what SQLite gives for ``SUM`` of
    integers (PostgreSQL: numeric) and ``AVG`` (numeric), where psycopg would give ``Decimal``."""

    def load(self, data: Buffer) -> int | float:
        text = bytes(data)
        if text.lstrip(b"-").isdigit():
            return int(text)
        return float(text)  # "1.50", "NaN", "Infinity"


# One SQL token that matters when translating placeholders: a string literal, a quoted name or
# a comment (copied, with % escaped), else a ? (a placeholder) or a % (escaped for psycopg).
_SQL_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|--[^\n]*|/\*.*?\*/|[?%]", re.DOTALL)


def _token(match: re.Match[str]) -> str:
    token = match.group()
    return "%s" if token == "?" else token.replace("%", "%%")


def translate_placeholders(query: str) -> str:
    """SQL with SQLite's ``?`` placeholders as psycopg's ``%s``, and literal ``%`` as ``%%``
    (``?`` inside string literals, quoted names and comments is left alone)."""
    return _SQL_TOKEN.sub(_token, query)


_pg = lru_cache(maxsize=1024)(translate_placeholders)  # the stores' own SQL, seen again and again
_UPSERT_FILE = _pg(UPSERT_FILE)
_UPDATE = _pg(UPDATE_EVENT)


def _without_nul(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]] | None:
    """The rows with U+0000 replaced in their text, or ``None`` when no text holds one."""
    if not any(isinstance(v, str) and _NUL in v for row in rows for v in row):
        return None
    return [
        tuple(v.replace(_NUL, _REPLACEMENT) if isinstance(v, str) else v for v in row)
        for row in rows
    ]


class PostgresStore(SQLStore[Connection]):
    """A :class:`~ctxrouter.telemetry.store.Store` in ``schema`` of the PostgreSQL database at
    ``url`` (``postgresql://user@host:5432/dbname``; libpq's parameters and environment apply).
    The schema, its tables and the migrations are created when missing."""

    _LIKE = "ILIKE"
    _UPSERT_FEEDBACK = (  # like SQLite's INSERT OR REPLACE, moves it last among equal ts
        f"INSERT INTO feedback ({FEEDBACK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (feedback_id) DO UPDATE SET"
        " seq = DEFAULT, ts = EXCLUDED.ts, run_id = EXCLUDED.run_id,"
        " agent = EXCLUDED.agent, correction = EXCLUDED.correction,"
        " rating = EXCLUDED.rating, extra = EXCLUDED.extra"
    )

    def __init__(self, url: str, *, schema: str = "ctxrouter") -> None:
        if not schema:
            raise ConfigError("the PostgreSQL store needs a schema name, got ''")
        try:
            params = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise ConfigError(
                f"store_url: not a PostgreSQL URL or DSN: {str(exc).strip()}"
            ) from None
        super().__init__(
            f"postgresql://{params.get('user', '')}@{params.get('host', '')}"
            f":{params.get('port', 5432)}/{params.get('dbname', '')} (schema {schema})"
        )
        self.url = url
        self.schema = schema
        conn = self._connect()
        try:
            migrate(_Target(conn, schema, self._label))
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _connect(self) -> Connection:
        timeout: dict[str, Any] = {}
        if "connect_timeout" not in conninfo_to_dict(self.url):
            timeout["connect_timeout"] = _CONNECT_TIMEOUT_S
        try:
            conn = psycopg.connect(self.url, autocommit=True, **timeout)
        except psycopg.Error as exc:
            raise ConfigError(
                f"cannot connect to the telemetry store {self._label}: {str(exc).strip()}; "
                "check store_url (CTXROUTER_STORE_URL) and that the server is running"
            ) from None
        try:
            conn.adapters.register_loader("numeric", _NumericLoader)
            conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema)))
        except BaseException:
            conn.close()
            raise
        return conn

    def _db(self) -> Connection:
        """The connection (a new one if the server dropped the last); hold ``self._lock``."""
        conn = super()._db()
        if conn.closed:  # by the server (our close() sets None); reconnect, or raise
            conn.close()  # (frees what libpq still holds; closed stays True if we fail)
            conn = self._conn = self._connect()
        return conn

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._db().cursor(binary=True) as cur:  # binary: floats bit-exact
            return cur.execute(_pg(sql), tuple(params)).fetchall()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = tuple(params)
        return self._db().execute(_pg(sql), (_without_nul([row]) or [row])[0]).rowcount

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL over ``events`` and ``feedback`` (see :class:`Store`), with ``?``
        placeholders; run in a read-only transaction. Whole ``numeric`` results (``SUM`` of
        integers) come back as ``int``, others (``AVG``) as ``float``, as from SQLite."""
        statement = translate_placeholders(sql)
        with self._lock:
            conn = self._db()
            with conn.transaction():
                conn.execute("SET TRANSACTION READ ONLY")
                return conn.execute(statement, tuple(params)).fetchall()

    def write_events(self, events: Sequence[Event]) -> None:
        """Append events in one transaction: all or none, in the order given."""
        if not events:
            return
        rows = event_rows(events)
        with self._lock:
            conn = self._db()
            try:
                _copy(conn, rows)
            except psycopg.errors.CharacterNotInRepertoire:
                cleaned = _without_nul(rows)
                if cleaned is None:
                    raise
                _copy(conn, cleaned)

    def _save_import(
        self, events: Sequence[Event], updates: list[Row], file_rows: list[Row]
    ) -> int:
        rows, conn = event_rows(events), self._db()
        try:
            return _save_import(conn, rows, updates, file_rows)
        except psycopg.errors.CharacterNotInRepertoire:
            clean = _without_nul(rows), _without_nul(updates), _without_nul(file_rows)
            if clean == (None, None, None):
                raise
            return _save_import(conn, clean[0] or rows, clean[1] or updates, clean[2] or file_rows)


def _copy(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """COPY ``rows`` into ``events`` in one transaction (rolled back if anything fails)."""
    with conn.transaction(), conn.cursor() as cur, cur.copy(_COPY) as copy:
        copy.set_types(_COPY_TYPES)
        for row in rows:
            copy.write_row(row)


def _save_import(
    conn: Connection,
    rows: list[tuple[Any, ...]],
    updates: list[tuple[Any, ...]],
    file_rows: list[tuple[Any, ...]],
) -> int:
    """One import batch in one transaction (rolled back if anything fails); returns how many
    of ``rows`` were added."""
    added = 0
    with conn.transaction(), conn.cursor() as cur:
        if rows:
            cur.execute(_STAGE_CREATE)
            with cur.copy(_STAGE_COPY) as copy:
                copy.set_types(["int8", *_COPY_TYPES])
                for ord_, row in enumerate(rows):
                    copy.write_row((ord_, *row))
            cur.execute(_STAGE_INSERT)
            added = cur.rowcount
        if updates:
            cur.executemany(_UPDATE, updates)
        if file_rows:
            cur.executemany(_UPSERT_FILE, file_rows)
    return added


class _Target:
    """The migration runner's view of a PostgreSQL connection and schema."""

    dialect: Dialect = "postgres"
    kind = "store"
    elsewhere = "schema or database (the store_url setting)"
    duplicates: type[Exception] = psycopg.errors.UniqueViolation

    def __init__(self, conn: Connection, schema: str, where: str) -> None:
        self.conn, self.schema, self.where = conn, schema, where

    def has_table(self, name: str) -> bool:
        sql = "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = %s AND tablename = %s"
        return self.conn.execute(sql, (self.schema, name)).fetchone() is not None

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self.conn.execute(_pg(sql), ()).fetchall()

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        self.conn.execute(_pg(sql), tuple(params))

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """A transaction under the schema's advisory lock (concurrent openers migrate once),
        creating the schema if missing."""
        with self.conn.transaction():
            self.conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ctxrouter:{self.schema}",)
            )
            self.conn.execute(
                pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(self.schema))
            )
            yield
