"""Telemetry: one :class:`Event` per attempt, kept in a :class:`Store`.

::

    store = open_store(settings)  # SQLite at settings.database_path
    with Recorder(store) as recorder:  # events are written off the hot path
        recorder.record(event)
    store.events(EventQuery(agent="code-reviewer", newest_first=True, limit=10))
    store.close()
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ctxrouter.telemetry.event import Event, Feedback, Outcome
from ctxrouter.telemetry.recorder import Recorder
from ctxrouter.telemetry.sqlite import SQLiteStore
from ctxrouter.telemetry.store import EventQuery, Store

if TYPE_CHECKING:
    from ctxrouter.config import Settings


def open_store(where: Settings | Path | str) -> SQLiteStore:
    """The SQLite store at ``settings.database_path``, or at an explicit path (created, with its
    folders, when missing)."""
    path = Path(where) if isinstance(where, (str, Path)) else where.database_path
    return SQLiteStore(path)


__all__ = [
    "Event",
    "EventQuery",
    "Feedback",
    "Outcome",
    "Recorder",
    "SQLiteStore",
    "Store",
    "open_store",
]
