"""Telemetry: one :class:`Event` per attempt, kept in a :class:`Store`.

::

    store = open_store(settings)  # PostgreSQL at settings.store_url, else SQLite
    print(store_label(store))  # which one, for people: never a password
    with Recorder(store) as recorder:  # events are written off the hot path
        recorder.record(event)
    store.events(EventQuery(agent="code-reviewer", newest_first=True, limit=10))
    store.close()

:class:`PostgresStore` needs ``psycopg`` (``pip install 'ctxrouter[postgres]'``); it is imported
only when used, so importing this package never imports psycopg.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, overload

from ctxrouter.errors import ConfigError
from ctxrouter.telemetry.event import Event, Feedback, Outcome
from ctxrouter.telemetry.location import DEFAULT_SCHEMA, is_postgres_url, store_label
from ctxrouter.telemetry.recorder import Recorder
from ctxrouter.telemetry.sqlite import SQLiteStore
from ctxrouter.telemetry.store import EventQuery, Store

if TYPE_CHECKING:
    from ctxrouter.config import Settings
    from ctxrouter.telemetry.postgres import PostgresStore


@overload
def open_store(where: Path) -> SQLiteStore: ...


@overload
def open_store(
    where: Settings | Path | str, *, schema: str | None = None
) -> SQLiteStore | PostgresStore: ...


def open_store(
    where: Settings | Path | str, *, schema: str | None = None
) -> SQLiteStore | PostgresStore:
    """The store ``where`` says:

    - ``Settings``: the PostgreSQL store at ``settings.store_url`` (in ``settings.store_schema``)
      when it is set, else the SQLite store at ``settings.database_path``;
    - a ``postgresql://`` (or ``postgres://``) URL: the PostgreSQL store there;
    - any other string, or a path: the SQLite store in that file (created, with its folders).

    A PostgreSQL store keeps its tables in ``schema`` (created when missing); by default the
    settings' ``store_schema``, for a URL ``ctxrouter``. :func:`store_label` names the store.
    """
    if isinstance(where, Path):
        return SQLiteStore(where)
    if isinstance(where, str):
        if is_postgres_url(where):
            return _postgres(where, schema or DEFAULT_SCHEMA)
        return SQLiteStore(Path(where))
    if where.store_url is None:
        return SQLiteStore(where.database_path)
    if not is_postgres_url(where.store_url):
        scheme = where.store_url.partition("://")[0] or where.store_url
        raise ConfigError(
            f"store_url: {scheme!r} is not a store ctxrouter knows; give a PostgreSQL URL "
            "(postgresql://user@host:5432/dbname), or unset it to use the SQLite file"
        )
    return _postgres(where.store_url, schema or where.store_schema)


def _postgres(url: str, schema: str) -> PostgresStore:
    try:
        from ctxrouter.telemetry.postgres import PostgresStore
    except ImportError as exc:
        raise ConfigError(
            f"store_url is a PostgreSQL URL, but psycopg is not installed ({exc}); "
            "pip install 'ctxrouter[postgres]', or unset store_url to use the SQLite file"
        ) from None
    return PostgresStore(url, schema=schema)


def __getattr__(name: str) -> object:
    """``PostgresStore`` on first use: importing telemetry must not import psycopg."""
    if name == "PostgresStore":
        from ctxrouter.telemetry.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Event",
    "EventQuery",
    "Feedback",
    "Outcome",
    "PostgresStore",
    "Recorder",
    "SQLiteStore",
    "Store",
    "open_store",
    "store_label",
]
