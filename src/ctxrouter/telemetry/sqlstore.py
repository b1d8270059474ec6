"""What the SQL stores do the same way, written once: reading events and feedback, counting,
finding runs, the importers' reads, storing feedback, the store's lifecycle. The SQL is what
both databases accept, with ``?`` placeholders (the PostgreSQL store translates them).

A backend (:class:`~ctxrouter.telemetry.sqlite.SQLiteStore`,
:class:`~ctxrouter.telemetry.postgres.PostgresStore`) subclasses :class:`SQLStore` and provides
what truly differs:

- ``_fetch`` and ``_execute``: one statement on its connection (the caller holds the lock);
- ``query``, the read-only SQL of the :class:`~ctxrouter.telemetry.store.Store` protocol;
- the write paths, ``write_events`` and ``_save_import`` (SQLite groups its INSERTs by which
  fields are null; PostgreSQL sends a binary COPY);
- ``_LIKE`` (an ASCII-case-insensitive ``LIKE``) and ``_UPSERT_FEEDBACK``.

Rows: :func:`event_row` is an event's values in column order (its outcome checked), and
:func:`event_from_row` the event back from a row of :data:`SELECT_EVENTS`; the column types
come from the schema's declaration (:data:`EVENT_COLUMNS`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from operator import attrgetter
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from ctxrouter.telemetry.event import EVENT_FIELDS, Event, Feedback, Outcome
from ctxrouter.telemetry.imports import (
    SELECT_FILES,
    ImportedFile,
    Replacement,
    file_row,
    imported_file,
)
from ctxrouter.telemetry.migrations import MIGRATIONS
from ctxrouter.telemetry.schema import Column, Type, columns
from ctxrouter.telemetry.store import Closing, EventQuery, where_clause

Row = tuple[Any, ...]

EVENT_COLUMNS: tuple[Column, ...] = columns(MIGRATIONS, "events")[1:]  # after seq: Event's
COLUMNS = ", ".join(f'"{name}"' for name in EVENT_FIELDS)  # quoted: PostgreSQL reserves "user"
SELECT_EVENTS = f"SELECT {COLUMNS} FROM events"
UPDATE_EVENT = f"UPDATE events SET {' = ?, '.join(COLUMNS.split(', '))} = ? WHERE event_id = ?"
FEEDBACK_COLUMNS = "feedback_id, ts, run_id, agent, correction, rating, extra"
OUTCOME_AT = EVENT_FIELDS.index("outcome")
BOOLEANS_AT = tuple(i for i, column in enumerate(EVENT_COLUMNS) if column.type is Type.BOOLEAN)
_OUTCOMES = frozenset(o.value for o in Outcome)  # an Outcome hashes and compares as its value
_ROW = attrgetter(*EVENT_FIELDS)
_ALL = EventQuery()
_IN_CHUNK = 500  # values per IN (...) list


def event_row(event: Event) -> Row:
    """``event``'s values in column order; refuses an outcome that is not one."""
    return event_rows([event])[0]


def event_rows(events: Sequence[Event]) -> list[Row]:
    """:func:`event_row` of each event."""
    rows: list[Row] = list(map(_ROW, events))
    for row in rows:
        if row[OUTCOME_AT] not in _OUTCOMES:
            raise ValueError(f"{row[OUTCOME_AT]!r} is not a valid Outcome")
    return rows


def event_from_row(row: Sequence[Any]) -> Event:
    """The event a row of :data:`SELECT_EVENTS` holds."""
    values = list(row)
    values[OUTCOME_AT] = Outcome(values[OUTCOME_AT])
    for i in BOOLEANS_AT:
        values[i] = bool(values[i])
    return Event(*values)


class _Connection(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Connection)


class SQLStore(Closing, Generic[C]):
    """The part of a SQL store its backends share; see the module's docstring."""

    _LIKE: ClassVar[str]  # ASCII case ignored: SQLite's LIKE, PostgreSQL's ILIKE
    _UPSERT_FEEDBACK: ClassVar[str]  # FEEDBACK_COLUMNS; a stored feedback_id is replaced

    def __init__(self, label: str) -> None:
        self._label = label  # names the store in messages and repr
        self._lock = threading.Lock()  # serialises the calls on the one connection
        self._conn: C | None = None

    # -- what a backend provides ---------------------------------------------------------

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """The rows of ``sql``; hold ``self._lock``."""
        raise NotImplementedError

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run ``sql``, committed; returns how many rows it changed. Hold ``self._lock``."""
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Read-only SQL over the shared schema (see :class:`~ctxrouter.telemetry.store.Store`)."""
        raise NotImplementedError

    def _save_import(
        self, events: Sequence[Event], updates: list[Row], file_rows: list[Row]
    ) -> int:
        """:meth:`save_import` with its rows made: in one transaction, add ``events`` (those
        stored already are left alone), run :data:`UPDATE_EVENT` with each of ``updates`` and
        :data:`~ctxrouter.telemetry.imports.UPSERT_FILE` with each of ``file_rows``; returns
        how many events were added. Hold ``self._lock``."""
        raise NotImplementedError

    # -- lifecycle -----------------------------------------------------------------------

    def _db(self) -> C:
        """The connection; hold ``self._lock``."""
        if self._conn is None:
            raise RuntimeError(f"the telemetry store {self._label} is closed")
        return self._conn

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._label!r})"

    def migrations(self) -> list[str]:
        """The names of the migrations this store has had, in order."""
        with self._lock:
            rows = self._fetch("SELECT name FROM _migrations ORDER BY version")
        return [name for (name,) in rows]

    # -- events --------------------------------------------------------------------------

    def events(self, query: EventQuery = _ALL) -> list[Event]:
        """Events matching ``query``, oldest first unless ``query.newest_first``."""
        where, params = query.where()
        order = " ORDER BY ts DESC, seq DESC" if query.newest_first else " ORDER BY ts, seq"
        sql = SELECT_EVENTS + where + order
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        with self._lock:
            rows = self._fetch(sql, params)
        return [event_from_row(row) for row in rows]

    def count_events(self, query: EventQuery = _ALL) -> int:
        """How many events match ``query``; always ``len(self.events(query))``."""
        where, params = query.where()
        sql = "SELECT COUNT(*) FROM events" + where
        if query.limit is not None:
            sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM events{where} LIMIT ?) AS hits"
            params.append(query.limit)
        with self._lock:
            ((count,),) = self._fetch(sql, params)
        return int(count)

    def runs_ending_with(self, fragment: str, limit: int = 2) -> list[str]:
        """Up to ``limit`` run ids ending with ``fragment`` (as the events table shows them);
        ASCII case is ignored."""
        escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = f"SELECT DISTINCT run_id FROM events WHERE run_id {self._LIKE} ? ESCAPE '\\' LIMIT ?"
        with self._lock:
            rows = self._fetch(sql, ("%" + escaped, limit))
        return [str(run_id) for (run_id,) in rows]

    def runs_by_agent(self, since: float | None = None) -> dict[str, int]:
        """Distinct runs per agent (events without an agent are left out), since ``since``."""
        sql = "SELECT agent, COUNT(DISTINCT run_id) FROM events WHERE agent IS NOT NULL"
        return self._counts(sql, since)

    # -- imports (see ctxrouter.telemetry.imports) ----------------------------------------

    def stored_events(
        self, source: str, *, message_ids: Sequence[str] = (), event_ids: Sequence[str] = ()
    ) -> list[Event]:
        """The events of provider ``source`` with one of ``message_ids`` or ``event_ids``, in
        the order they were stored."""
        found: dict[int, Event] = {}
        with self._lock:
            for column, values in (("message_id", message_ids), ("event_id", event_ids)):
                wanted = list(dict.fromkeys(values))
                for at in range(0, len(wanted), _IN_CHUNK):
                    chunk = wanted[at : at + _IN_CHUNK]
                    sql = (
                        f"SELECT seq, {COLUMNS} FROM events WHERE {column} IN"
                        f" ({', '.join('?' * len(chunk))}) AND provider = ?"
                    )
                    for seq, *row in self._fetch(sql, (*chunk, source)):
                        found[seq] = event_from_row(row)
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
        updates = [(*event_row(r.event), r.event_id) for r in replacements]
        file_rows = [file_row(source, f) for f in files]
        with self._lock:
            return self._save_import(events, updates, file_rows)

    def imported_files(self, source: str) -> dict[str, ImportedFile]:
        """The read positions of the importer ``source``, by path."""
        return {row[0]: imported_file(row) for row in self.query(SELECT_FILES, (source,))}

    def forget_imported_files(self, source: str) -> int:
        """Drop the read positions of ``source``; returns how many there were."""
        with self._lock:
            return self._execute("DELETE FROM imported_files WHERE source = ?", (source,))

    # -- feedback ------------------------------------------------------------------------

    def add_feedback(self, feedback: Feedback) -> None:
        """Store a feedback; adding one with a ``feedback_id`` already stored replaces it
        (and moves it last among equal timestamps)."""
        f = feedback
        extra = json.dumps(f.extra, sort_keys=True, ensure_ascii=False)
        row = (f.feedback_id, f.ts, f.run_id, f.agent, f.correction, f.rating, extra)
        with self._lock:
            self._execute(self._UPSERT_FEEDBACK, row)

    def feedback(self, *, run_id: str | None = None, agent: str | None = None) -> list[Feedback]:
        """Feedback for a run and/or an agent, oldest first."""
        where, params = where_clause({"run_id": run_id, "agent": agent})
        sql = f"SELECT {FEEDBACK_COLUMNS} FROM feedback{where} ORDER BY ts, seq"
        return [
            Feedback(fid, ts, run, who, correction, rating, json.loads(extra))
            for fid, ts, run, who, correction, rating, extra in self.query(sql, params)
        ]

    def corrections_by_agent(self, since: float | None = None) -> dict[str, int]:
        """Feedback carrying a correction (not just a rating), per agent, since ``since``."""
        sql = (
            "SELECT agent, COUNT(*) FROM feedback"
            " WHERE agent IS NOT NULL AND correction IS NOT NULL AND correction <> ''"
        )
        return self._counts(sql, since)

    def _counts(self, sql: str, since: float | None) -> dict[str, int]:
        params: list[Any] = []
        if since is not None:
            sql += " AND ts >= ?"
            params.append(since)
        return {agent: int(n) for agent, n in self.query(sql + " GROUP BY agent", params)}
