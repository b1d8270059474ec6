"""Bring a store's schema up to date: one migration runner for every backend.

When a store opens, :func:`migrate` applies the migrations of
:data:`~ctxrouter.telemetry.migrations.MIGRATIONS` that the store has not had, rendered for its
database, in order, in **one** transaction that also records each in the ``_migrations`` table
(version, name, when). A store that records a migration this version does not know (or one
renumbered) was written by a newer ctxrouter: it is refused with a
:class:`~ctxrouter.errors.ConfigError`, never touched.

The common case, a store already up to date, costs one read: no lock is taken, no DDL runs (a
PostgreSQL user without DDL privileges can open a store that is up to date).

A backend takes part through a :class:`Target`, a small adapter around its connection: which
database it is, where (for messages), how to run a statement, whether ``_migrations`` exists,
and an exclusive transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction under an
advisory lock, so two routers starting together migrate once).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ctxrouter.errors import ConfigError
from ctxrouter.telemetry.migrations import MIGRATIONS
from ctxrouter.telemetry.schema import (
    Dialect,
    Migration,
    OnDuplicates,
    Statement,
    Type,
    render,
    sql_type,
)


class Target(Protocol):
    """A store's connection, as the runner needs it."""

    dialect: Dialect
    where: str  # names the store in messages: its path, or its server and schema
    kind: str  # "database" or "store", in messages
    elsewhere: str  # what else to use: "database (the data_dir setting, or --db)"
    duplicates: type[Exception]  # what a unique constraint's refusal raises (OnDuplicates)

    def has_table(self, name: str) -> bool:
        """Whether the store has table ``name``."""
        ...

    def fetch(self, sql: str) -> list[tuple[Any, ...]]: ...

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run ``sql`` (``?`` placeholders when ``params`` are given)."""
        ...

    def exclusive(self) -> AbstractContextManager[object]:
        """One transaction that other openers of the store wait for."""
        ...


def migrate(target: Target, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
    """Apply the migrations ``target`` has not had; returns their names (often none)."""
    if not pending(target, migrations):  # the common case: no lock, no DDL
        return []
    with target.exclusive():
        applied_at = sql_type(Type.REAL, target.dialect)
        target.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY,"
            f" name TEXT NOT NULL UNIQUE, applied_at {applied_at} NOT NULL)"
        )
        todo = pending(target, migrations)  # again, now that other openers wait
        for version, migration in todo:
            for statement in render(migration, target.dialect):
                _run(target, statement)
            target.execute(
                "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, migration.name, time.time()),
            )
    return [migration.name for _, migration in todo]


def pending(target: Target, migrations: Sequence[Migration]) -> list[tuple[int, Migration]]:
    """The migrations still to apply, with their versions; refuses a store written by a newer
    ctxrouter."""
    done: dict[str, int] = {}
    if target.has_table("_migrations"):
        done = {name: version for name, version in target.fetch(_DONE)}
    known = {migration.name: version for version, migration in enumerate(migrations, start=1)}
    unknown = sorted((name for name in done if name not in known), key=lambda name: done[name])
    if unknown or any(known[name] != version for name, version in done.items() if name in known):
        raise ConfigError(
            f"{target.where}: this telemetry {target.kind} was written by a newer ctxrouter (it "
            "has schema migration(s) this version does not know: "
            f"{', '.join(unknown) or 'renumbered'}). Upgrade ctxrouter (pip install -U "
            f"ctxrouter), or use another {target.elsewhere}."
        )
    return [
        (version, migration)
        for version, migration in enumerate(migrations, start=1)
        if migration.name not in done
    ]


_DONE = "SELECT name, version FROM _migrations"


def _run(target: Target, statement: Statement) -> None:
    if not isinstance(statement, OnDuplicates):
        target.execute(statement)
        return
    try:
        target.execute(statement.sql)
    except target.duplicates:  # only this statement failed (SQLite): the transaction goes on
        target.execute(statement.cleanup)
        target.execute(statement.sql)
