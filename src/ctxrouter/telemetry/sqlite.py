"""The embedded telemetry store: one SQLite file, written in WAL mode.

Threads: a :class:`SQLiteStore` holds **one** connection, opened with
``check_same_thread=False`` and guarded by a lock, so any thread may call any method; calls are
serialised within one process (reads and writes are short). Other processes (the CLI reading while
a router writes) share the file through WAL: readers never block the writer, and a writer waits up
to ``busy_timeout`` seconds for another writer.

Schema: named, ordered migrations (``_MIGRATIONS``), each a function that runs in the one
transaction that also records it in ``_migrations``. They are applied in order when the store
opens. A database that records a migration this version does not know was written by a newer
ctxrouter: it is refused with a :class:`~ctxrouter.errors.ConfigError`, never touched.
To change the schema, append a migration; never edit one that has shipped.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from itertools import compress
from operator import attrgetter, is_not
from pathlib import Path
from types import TracebackType
from typing import Any

from ctxrouter.errors import ConfigError
from ctxrouter.telemetry.event import EVENT_FIELDS, Event, Feedback, Outcome
from ctxrouter.telemetry.imports import UPSERT_FILE, ImportedFile, Replacement, file_row
from ctxrouter.telemetry.reads import SharedReads
from ctxrouter.telemetry.store import EventQuery

Migration = Callable[[sqlite3.Connection], None]


def _m001_events_and_feedback(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,  -- insertion order; breaks ties in ts
            event_id TEXT NOT NULL,
            ts REAL NOT NULL,
            run_id TEXT NOT NULL,
            agent TEXT,
            model TEXT NOT NULL,
            tier TEXT,
            outcome TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            task_id TEXT,
            pipeline TEXT,
            step TEXT,
            category TEXT,
            provider TEXT,
            user TEXT,
            session_id TEXT,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_creation_5m_tokens INTEGER NOT NULL,
            cache_creation_1h_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cost_usd REAL,
            latency_ms REAL,
            ttft_ms REAL,
            error_type TEXT,
            status_code INTEGER,
            escalated_from TEXT,
            fallback_from TEXT,
            experiment_arm TEXT,
            confidence REAL,
            stream INTEGER NOT NULL,
            batch INTEGER NOT NULL,
            request_id TEXT,
            prompt_chars INTEGER NOT NULL,
            prompt_sha256 TEXT,
            output_chars INTEGER NOT NULL,
            output_sha256 TEXT,
            prompt_text TEXT,
            output_text TEXT
        )
        """
    )
    conn.execute("CREATE INDEX events_ts ON events (ts)")
    conn.execute("CREATE INDEX events_run ON events (run_id)")
    conn.execute("CREATE INDEX events_agent_ts ON events (agent, ts)")
    conn.execute("CREATE INDEX events_model_ts ON events (model, ts)")
    conn.execute(
        """
        CREATE TABLE feedback (
            seq INTEGER PRIMARY KEY,
            feedback_id TEXT NOT NULL UNIQUE,
            ts REAL NOT NULL,
            run_id TEXT NOT NULL,
            agent TEXT,
            correction TEXT,
            rating INTEGER,
            extra TEXT NOT NULL DEFAULT '{}'  -- JSON object
        )
        """
    )
    conn.execute("CREATE INDEX feedback_run ON feedback (run_id)")
    conn.execute("CREATE INDEX feedback_agent_ts ON feedback (agent, ts)")


def _m002_metrics_indexes(conn: sqlite3.Connection) -> None:
    """Covering indexes for the metrics queries (the page over 1M events: 6.4 s -> 0.96 s).

    SQLite uses an index on an expression only when a query spells the expression the same
    way, so the DDL comes from the metrics module, whose queries use the same constants
    (``tests/analytics/test_metrics.py`` checks that the planner uses them).
    """
    from ctxrouter.analytics.metrics import SQLITE_INDEXES

    for statement in SQLITE_INDEXES:
        conn.execute(statement)


def _m003_route_columns(conn: sqlite3.Connection) -> None:
    """What the client asked for and why the router changed it (the gateway's rewrites)."""
    conn.execute("ALTER TABLE events ADD COLUMN requested_model TEXT")
    conn.execute("ALTER TABLE events ADD COLUMN route_reason TEXT")


def _m004_imports(conn: sqlite3.Connection) -> None:
    """Importers (``ctxrouter import claude-code``): the API's message id on events, one event
    per ``event_id``, and how far each imported file was read.

    ``event_id`` becomes unique: importers write deterministic ids and rely on the store to
    never add one twice. Ids were unique in practice before (80 random bits); a store that holds
    copies of one id anyway (a batch written twice) keeps the first row and drops the copies.
    """
    conn.execute("ALTER TABLE events ADD COLUMN message_id TEXT")
    try:
        conn.execute(_UNIQUE_EVENT_ID)
    except sqlite3.IntegrityError:  # copies: only this statement failed, the transaction goes on
        conn.execute(
            "DELETE FROM events WHERE seq NOT IN (SELECT MIN(seq) FROM events GROUP BY event_id)"
        )
        conn.execute(_UNIQUE_EVENT_ID)
    conn.execute(
        "CREATE INDEX events_message_id ON events (message_id) WHERE message_id IS NOT NULL"
    )
    conn.execute(
        """
        CREATE TABLE imported_files (
            source TEXT NOT NULL,  -- the importer: 'claude-code'
            path TEXT NOT NULL,  -- absolute
            size INTEGER NOT NULL,  -- bytes read (the next read starts here)
            lines INTEGER NOT NULL,  -- lines read
            inode TEXT,  -- st_ino (as text: it may not fit a signed 64-bit integer)
            head_sha256 TEXT,  -- SHA-256 of the first line
            mtime REAL,
            imported_at REAL NOT NULL,
            PRIMARY KEY (source, path)
        )
        """
    )


_UNIQUE_EVENT_ID = "CREATE UNIQUE INDEX events_event_id ON events (event_id)"

# In order; the version of a migration is its position, from 1. Append only.
_MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("m001_events_and_feedback", _m001_events_and_feedback),
    ("m002_metrics_indexes", _m002_metrics_indexes),
    ("m003_route_columns", _m003_route_columns),
    ("m004_imports", _m004_imports),
)

_COLUMNS = ", ".join(EVENT_FIELDS)
_SELECT = f"SELECT {_COLUMNS} FROM events"
_OUTCOME_AT = EVENT_FIELDS.index("outcome")
_BOOLS_AT = tuple(i for i, f in enumerate(fields(Event)) if f.type in ("bool", bool))
_FLAGS = ("outcome", "stream", "batch")  # written as SQL literals, see _insert_events
_BOUND = tuple(f for f in EVENT_FIELDS if f not in _FLAGS)
_GET_BOUND = attrgetter(*_BOUND)
_GET_FLAGS = attrgetter(*_FLAGS)
_NO_VALUES = (None,) * len(_BOUND)
_ALL = EventQuery()

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


_UPDATE = (
    f"UPDATE events SET {', '.join(f'{name} = ?' for name in EVENT_FIELDS)} WHERE event_id = ?"
)
_IN_CHUNK = 500  # values per IN (...) list


def _update_row(event: Event) -> tuple[Any, ...]:
    values = list(event.to_dict().values())
    values[_OUTCOME_AT] = Outcome(values[_OUTCOME_AT]).value
    return (*(int(v) if isinstance(v, bool) else v for v in values),)


def _event(row: Sequence[Any]) -> Event:
    values = list(row)
    values[_OUTCOME_AT] = Outcome(values[_OUTCOME_AT])
    for i in _BOOLS_AT:
        values[i] = bool(values[i])
    return Event(*values)


def _where(query: EventQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column in ("run_id", "agent", "model", "outcome"):
        value = getattr(query, column)
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(str(value))
    if query.since is not None:
        clauses.append("ts >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append("ts < ?")
        params.append(query.until)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class SQLiteStore(SharedReads):
    """A :class:`~ctxrouter.telemetry.store.Store` in one SQLite file (created if missing)."""

    def __init__(self, path: Path | str, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
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
            _migrate(conn, self.path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ConfigError(
                f"{self.path}: cannot open the telemetry database: {exc}; "
                "if it is not a ctxrouter database, move it aside or set another data_dir"
            ) from None
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"the telemetry store {self.path} is closed")
        return self._conn

    def migrations(self) -> list[str]:
        """The names of the migrations this database has had, in order."""
        with self._lock:
            rows = self._db().execute("SELECT name FROM _migrations ORDER BY version").fetchall()
        return [name for (name,) in rows]

    # -- events --------------------------------------------------------------------------

    def write_events(self, events: Sequence[Event]) -> None:
        """Append events in one transaction: all or none, in the order given."""
        if not events:
            return
        with self._lock:
            conn = self._db()
            conn.execute("BEGIN IMMEDIATE")
            try:
                _insert_events(conn, events)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def events(self, query: EventQuery = _ALL) -> list[Event]:
        """Events matching ``query``, oldest first unless ``query.newest_first``."""
        where, params = _where(query)
        order = " ORDER BY ts DESC, seq DESC" if query.newest_first else " ORDER BY ts, seq"
        sql = _SELECT + where + order
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        with self._lock:
            rows = self._db().execute(sql, params).fetchall()
        return [_event(row) for row in rows]

    def count_events(self, query: EventQuery = _ALL) -> int:
        """How many events match ``query``; always ``len(self.events(query))``."""
        where, params = _where(query)
        sql = "SELECT COUNT(*) FROM events" + where
        if query.limit is not None:
            sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM events{where} LIMIT ?)"
            params.append(query.limit)
        with self._lock:
            (count,) = self._db().execute(sql, params).fetchone()
        return int(count)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL over ``events`` and ``feedback`` (see :class:`Store`)."""
        with self._lock:
            return list(self._db().execute(sql, tuple(params)).fetchall())

    def runs_ending_with(self, fragment: str, limit: int = 2) -> list[str]:
        """Up to ``limit`` run ids ending with ``fragment`` (as the events table shows them)."""
        escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT DISTINCT run_id FROM events WHERE run_id LIKE ? ESCAPE '\\' LIMIT ?",
                    ("%" + escaped, limit),
                )
                .fetchall()
            )
        return [str(row[0]) for row in rows]

    # -- imports (see ctxrouter.telemetry.imports) ----------------------------------------

    def stored_events(
        self, source: str, *, message_ids: Sequence[str] = (), event_ids: Sequence[str] = ()
    ) -> list[Event]:
        """The events of provider ``source`` with one of ``message_ids`` or ``event_ids``, in
        the order they were stored."""
        found: dict[int, Event] = {}
        with self._lock:
            conn = self._db()
            for column, values in (("message_id", message_ids), ("event_id", event_ids)):
                wanted = list(dict.fromkeys(values))
                for at in range(0, len(wanted), _IN_CHUNK):
                    chunk = wanted[at : at + _IN_CHUNK]
                    sql = (
                        f"SELECT seq, {_COLUMNS} FROM events WHERE {column} IN"
                        f" ({', '.join('?' * len(chunk))}) AND provider = ?"
                    )
                    for seq, *row in conn.execute(sql, (*chunk, source)):
                        found[seq] = _event(row)
        return [found[seq] for seq in sorted(found)]

    def save_import(
        self,
        source: str,
        *,
        events: Sequence[Event],
        replacements: Sequence[Replacement] = (),
        files: Sequence[ImportedFile] = (),
    ) -> int:
        """In one transaction: add ``events`` (an ``event_id`` stored already is left alone),
        apply ``replacements``, record ``files``; returns how many events were added."""
        with self._lock:
            conn = self._db()
            conn.execute("BEGIN IMMEDIATE")
            try:
                before = conn.total_changes
                _insert_events(conn, events, skip_stored=True)
                added = conn.total_changes - before
                conn.executemany(
                    _UPDATE, [(*_update_row(r.event), r.event_id) for r in replacements]
                )
                conn.executemany(UPSERT_FILE, [file_row(source, f) for f in files])
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return added

    def forget_imported_files(self, source: str) -> int:
        """Drop the read positions of ``source``; returns how many there were."""
        with self._lock:
            cur = self._db().execute("DELETE FROM imported_files WHERE source = ?", (source,))
        return cur.rowcount

    # -- feedback ------------------------------------------------------------------------

    def add_feedback(self, feedback: Feedback) -> None:
        """Store a feedback; adding one with a ``feedback_id`` already stored replaces it."""
        row = (
            feedback.feedback_id,
            feedback.ts,
            feedback.run_id,
            feedback.agent,
            feedback.correction,
            feedback.rating,
            json.dumps(feedback.extra, sort_keys=True, ensure_ascii=False),
        )
        with self._lock:
            self._db().execute(
                "INSERT OR REPLACE INTO feedback"
                " (feedback_id, ts, run_id, agent, correction, rating, extra)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the migrations this database has not had, in one transaction."""
    if not _pending(conn, path):  # the common case: no write lock taken
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at REAL NOT NULL)"
        )
        for version, name, migration in _pending(conn, path):  # again, now under the lock
            migration(conn)
            conn.execute(
                "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, time.time()),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _pending(conn: sqlite3.Connection, path: Path) -> list[tuple[int, str, Migration]]:
    """The migrations still to apply; refuses a database written by a newer ctxrouter."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone()
    done: dict[str, int] = {}
    if has_table:
        done = dict(conn.execute("SELECT name, version FROM _migrations").fetchall())
    known = {name: version for version, (name, _) in enumerate(_MIGRATIONS, start=1)}
    unknown = sorted((n for n in done if n not in known), key=lambda n: done[n])
    if unknown or any(known[n] != v for n, v in done.items() if n in known):
        raise ConfigError(
            f"{path}: this telemetry database was written by a newer ctxrouter (it has schema "
            f"migration(s) this version does not know: {', '.join(unknown) or 'renumbered'}). "
            "Upgrade ctxrouter (pip install -U ctxrouter), or use another database "
            "(the data_dir setting, or --db)."
        )
    return [
        (version, name, migration)
        for version, (name, migration) in enumerate(_MIGRATIONS, start=1)
        if name not in done
    ]
