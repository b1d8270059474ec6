"""The embedded telemetry store: one SQLite file, written in WAL mode.

Threads: a :class:`SQLiteStore` holds **one** connection, opened with
``check_same_thread=False`` and guarded by a lock, so any thread may call any method; calls are
serialised within one process (reads and writes are short). Other processes (the CLI reading while
a router writes) share the file through WAL: readers never block the writer, and a writer waits up
to ``busy_timeout`` seconds for another writer.

Schema: the migrations of :mod:`ctxrouter.telemetry.migrations`, applied when the store opens by
:func:`~ctxrouter.telemetry.migrate.migrate` (a database written by a newer ctxrouter is refused).
What every SQL store does alike is in :class:`~ctxrouter.telemetry.sqlstore.SQLStore`; this
module keeps what is SQLite's own: the connection and its pragmas, and the fast INSERT path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from itertools import compress
from operator import attrgetter, is_not
from pathlib import Path
from typing import Any

from ctxrouter.errors import ConfigError
from ctxrouter.telemetry.event import EVENT_FIELDS, Event, Outcome
from ctxrouter.telemetry.imports import UPSERT_FILE
from ctxrouter.telemetry.migrate import migrate
from ctxrouter.telemetry.schema import Dialect
from ctxrouter.telemetry.sqlstore import FEEDBACK_COLUMNS, UPDATE_EVENT, Row, SQLStore

_FLAGS = ("outcome", "stream", "batch")  # written as SQL literals, see _insert_events
_BOUND = tuple(f for f in EVENT_FIELDS if f not in _FLAGS)
_GET_BOUND = attrgetter(*_BOUND)
_GET_FLAGS = attrgetter(*_FLAGS)
_NO_VALUES = (None,) * len(_BOUND)

_Flags = tuple[Any, Any, Any]

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers (the CLI) never block the writer (the recorder)
    "PRAGMA synchronous=NORMAL",  # durable at checkpoints; a power cut may lose the last commits
    "PRAGMA cache_size=-65536",  # up to 64 MiB: random run_id keys touch many index pages
    "PRAGMA wal_autocheckpoint=16384",  # checkpoint every 64 MiB of WAL, not every 4 MiB
    "PRAGMA journal_size_limit=67108864",  # and truncate the WAL back to 64 MiB after it
    "PRAGMA mmap_size=2147418112",  # read the file through the page cache: metrics scans
)


def _insert_events(
    conn: sqlite3.Connection, events: Sequence[Event], *, skip_stored: bool = False
) -> None:
    """Insert ``events`` (inside the caller's transaction), keeping their order; with
    ``skip_stored``, an event whose ``event_id`` is stored already is left out.

    Fast path: the ``sqlite3`` module binds ``None``, ``bool`` and enum values through its
    adaptation protocol, about eight times slower than an ``int``, and an event has some twenty
    ``None`` fields. So rows are grouped by which fields are ``None`` (left out: they default to
    NULL) and by ``(outcome, stream, batch)`` (written as literals), and ``seq`` is given
    explicitly so the order of insertion survives the grouping.
    """
    (last,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
    groups: dict[tuple[tuple[bool, ...], _Flags], list[tuple[Any, ...]]] = {}
    for seq, event in enumerate(events, start=last + 1):
        values = _GET_BOUND(event)
        present = tuple(map(is_not, values, _NO_VALUES))
        key = (present, _GET_FLAGS(event))
        rows = groups.get(key)
        if rows is None:
            rows = groups[key] = []
        rows.append((seq, *compress(values, present)))
    for (present, flags), rows in groups.items():
        conn.executemany(_insert_sql(present, flags, skip_stored=skip_stored), rows)


def _insert_sql(present: tuple[bool, ...], flags: _Flags, *, skip_stored: bool = False) -> str:
    outcome, stream, batch = flags
    columns = ["seq", *compress(_BOUND, present)]
    literals = f"'{Outcome(outcome).value}', {int(bool(stream))}, {int(bool(batch))}"
    conflict = " ON CONFLICT (event_id) DO NOTHING" if skip_stored else ""
    return (
        f"INSERT INTO events ({', '.join(columns)}, {', '.join(_FLAGS)})"
        f" VALUES ({', '.join('?' * len(columns))}, {literals}){conflict}"
    )


class SQLiteStore(SQLStore[sqlite3.Connection]):
    """A :class:`~ctxrouter.telemetry.store.Store` in one SQLite file (created if missing)."""

    _LIKE = "LIKE"
    _UPSERT_FEEDBACK = (
        f"INSERT OR REPLACE INTO feedback ({FEEDBACK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )

    def __init__(self, path: Path | str, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        super().__init__(str(self.path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path,
            timeout=busy_timeout,  # the busy timeout: how long to wait for another writer
            isolation_level=None,  # transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
            check_same_thread=False,  # any thread; self._lock serialises the calls
            cached_statements=256,  # one INSERT per null pattern, see _insert_events
        )
        try:
            for pragma in _PRAGMAS:
                conn.execute(pragma)
            migrate(_Target(conn, self.path))
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ConfigError(
                f"{self.path}: cannot open the telemetry database: {exc}; "
                "if it is not a ctxrouter database, move it aside or set another data_dir"
            ) from None
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db().execute(sql, params).fetchall()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._db().execute(sql, params).rowcount

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL over ``events`` and ``feedback`` (see :class:`Store`)."""
        with self._lock:
            return self._fetch(sql, tuple(params))

    def write_events(self, events: Sequence[Event]) -> None:
        """Append events in one transaction: all or none, in the order given."""
        if not events:
            return
        with self._lock, _transaction(self._db()) as conn:
            _insert_events(conn, events)

    def _save_import(
        self, events: Sequence[Event], updates: list[Row], file_rows: list[Row]
    ) -> int:
        with _transaction(self._db()) as conn:
            before = conn.total_changes
            _insert_events(conn, events, skip_stored=True)
            added = conn.total_changes - before
            conn.executemany(UPDATE_EVENT, updates)
            conn.executemany(UPSERT_FILE, file_rows)
        return added


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``: other writers wait), rolled back if the
    block raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class _Target:
    """The migration runner's view of a SQLite connection."""

    dialect: Dialect = "sqlite"
    kind = "database"
    elsewhere = "database (the data_dir setting, or --db)"
    duplicates: type[Exception] = sqlite3.IntegrityError

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn, self.where = conn, str(path)

    def has_table(self, name: str) -> bool:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return self.conn.execute(sql, (name,)).fetchone() is not None

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql).fetchall()

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        self.conn.execute(sql, params)

    def exclusive(self) -> AbstractContextManager[object]:
        return _transaction(self.conn)
