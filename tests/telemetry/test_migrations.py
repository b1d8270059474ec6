"""The migrations: shipped ones never change, the schema they build is the one declared (and has
exactly the columns of Event), and the runner upgrades old stores on both backends."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ctxrouter.telemetry import Event, SQLiteStore
from ctxrouter.telemetry.event import EVENT_FIELDS
from ctxrouter.telemetry.migrations import MIGRATIONS
from ctxrouter.telemetry.schema import DIALECTS, Migration, Type, columns, ddl, render

if TYPE_CHECKING:
    from .conftest import StoreBackend

# The SHA-256 of each shipped migration's DDL (``schema.ddl``) on (SQLite, PostgreSQL), in
# order. Stores in the field have run these migrations as they were: never edit one (append a
# migration instead). A new migration's line is printed by the test below, to paste here.
SHIPPED: dict[str, tuple[str, str]] = {
    "m001_events_and_feedback": (
        "3fc6c6ef4fc6fb6591750b8ab00d101bd347f8f039984b074f45dbac1294acd0",
        "466aa3a8d13ed22b25d6eb7c3295cb39601c7d7fa4ee966bbd331d327dcedc77",
    ),
    "m002_metrics_indexes": (
        "d0e7e828e5cc5b899c701e42103da860832fbb4a615061f4c4ad7208bc0143bc",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # none
    ),
    "m003_route_columns": (
        "7dcaeb786da698a36b96dff7a75f094e45300943fc5daf21fa1e58651db22bcc",
        "7dcaeb786da698a36b96dff7a75f094e45300943fc5daf21fa1e58651db22bcc",
    ),
    "m004_imports": (
        "d451f768bd9a8c3e5f6e315e5070347a704dc1fb1fe44f79f22b43766f451fec",
        "44a4b6483c2f2fbf4441b12979c670a3b9198cc62d7c0fc99eaaa72484aa96f9",
    ),
    "m005_route_flag": (
        "755b6c77779c8413fddc01753cf20f2d13fa834c475996886d337b093034b911",
        "755b6c77779c8413fddc01753cf20f2d13fa834c475996886d337b093034b911",
    ),
}


def hashes(migration: Migration) -> tuple[str, ...]:
    return tuple(hashlib.sha256(ddl(migration, d).encode()).hexdigest() for d in DIALECTS)


def test_shipped_migrations_never_change() -> None:
    names = [m.name for m in MIGRATIONS]
    assert len(set(names)) == len(names), f"two migrations share a name: {names}"
    assert names[: len(SHIPPED)] == list(SHIPPED), (
        f"shipped migrations were renamed, moved or removed: {list(SHIPPED)} must stay the first "
        f"migrations, in this order (the store has {names}); append a new migration instead"
    )
    changed = [
        f"{migration.name} on {dialect}"
        for migration in MIGRATIONS[: len(SHIPPED)]
        for dialect, now, shipped in zip(
            DIALECTS, hashes(migration), SHIPPED[migration.name], strict=True
        )
        if now != shipped
    ]
    assert not changed, (
        f"the DDL of a shipped migration changed ({', '.join(changed)}): stores in the field ran "
        "it as it was, so it never changes. Restore it and append a new migration instead "
        "(see ctxrouter/telemetry/migrations.py)"
    )


def test_every_migration_has_its_hashes_recorded() -> None:
    lines = "".join(
        f'    "{m.name}": (\n' + "".join(f'        "{h}",\n' for h in hashes(m)) + "    ),\n"
        for m in MIGRATIONS[len(SHIPPED) :]
    )
    assert not lines, f"record the new migration(s) in SHIPPED, in {__file__}:\n{lines}"


# -- the schema the migrations build -----------------------------------------------------------

_EVENT_TYPES = {
    "str": Type.TEXT,
    "Outcome": Type.TEXT,
    "int": Type.INTEGER,
    "float": Type.REAL,
    "bool": Type.BOOLEAN,
}


def test_events_has_exactly_the_columns_of_event() -> None:
    declared = columns(MIGRATIONS, "events")
    assert [c.name for c in declared] == ["seq", *EVENT_FIELDS], (
        "the events table must have exactly Event's fields as columns, in the same order (after "
        "seq): a new Event field needs a migration that adds its column (see "
        "ctxrouter/telemetry/migrations.py)"
    )
    for column, field in zip(declared[1:], fields(Event), strict=True):
        annotation = str(field.type)
        wanted = (_EVENT_TYPES[annotation.removesuffix(" | None")], annotation.endswith("None"))
        assert (column.type, column.null) == wanted, f"events.{column.name} vs Event.{field.name}"


# What each database reports for a column of each type: (SQLite, PostgreSQL).
_REPORTED = {
    Type.TEXT: ("TEXT", "text"),
    Type.INTEGER: ("INTEGER", "bigint"),
    Type.REAL: ("REAL", "double precision"),
    Type.BOOLEAN: ("INTEGER", "boolean"),
    Type.SEQ: ("INTEGER", "bigint"),
}


def _table(backend: StoreBackend, table: str) -> list[tuple[str, str, bool]]:
    """(name, type, nullable) of each column of ``table``, as the database reports them."""
    if backend.name == "sqlite":
        rows = backend.raw(f"SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}')")
        return [(name, type_, not notnull and pk != 1) for name, type_, notnull, pk in rows]
    rows = backend.raw(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        f" WHERE table_schema = current_schema() AND table_name = '{table}'"
        " ORDER BY ordinal_position"
    )
    return [(name, type_, nullable == "YES") for name, type_, nullable in rows]


def test_a_new_store_has_the_declared_tables(store_backend: StoreBackend) -> None:
    with store_backend.open():
        pass
    at = DIALECTS.index(store_backend.name)  # type: ignore[arg-type]
    for table in ("events", "feedback", "imported_files"):
        declared = [
            (c.name, _REPORTED[c.type][at], c.null and c.type is not Type.SEQ)
            for c in columns(MIGRATIONS, table)
        ]
        assert _table(store_backend, table) == declared, table


def test_telemetry_does_not_import_analytics() -> None:
    """Migrations are literal: nothing the analytics change may change a store's schema."""
    code = (
        "import sys, ctxrouter.telemetry, ctxrouter.telemetry.sqlite, ctxrouter.telemetry.postgres;"
        "print(sorted(m for m in sys.modules if m.startswith('ctxrouter.analytics')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the runner --------------------------------------------------------------------------------


def _indexes(backend: StoreBackend) -> list[tuple[str, str]]:
    if backend.name == "sqlite":
        return backend.raw("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY 1")
    return backend.raw(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        " AND tablename <> '_migrations' ORDER BY 1"
    )


@pytest.mark.parametrize("version", range(len(MIGRATIONS)))
def test_a_store_of_any_version_is_upgraded_to_the_schema_of_a_new_one(
    store_backend: StoreBackend, version: int
) -> None:
    with store_backend.open():
        pass
    new = {t: _table(store_backend, t) for t in ("events", "feedback", "imported_files")}
    indexes = _indexes(store_backend)
    for table in ("_migrations", *new):
        store_backend.raw(f"DROP TABLE {table}")
    # the store as a ctxrouter that had only the first `version` migrations left it
    store_backend.raw(
        "CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
        " applied_at REAL NOT NULL)"
    )
    for number, migration in enumerate(MIGRATIONS[:version], start=1):
        for statement in render(migration, store_backend.name):  # type: ignore[arg-type]
            store_backend.raw(statement if isinstance(statement, str) else statement.sql)
        store_backend.raw(f"INSERT INTO _migrations VALUES ({number}, '{migration.name}', 0)")
    with store_backend.open() as store:
        assert store.migrations() == [m.name for m in MIGRATIONS]
    assert {t: _table(store_backend, t) for t in new} == new
    assert _indexes(store_backend) == indexes


def test_an_up_to_date_store_opens_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    """Nothing to migrate: the store takes no write lock to open (busy_timeout 0 would fail)."""
    path = tmp_path / "t.db"
    SQLiteStore(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with SQLiteStore(path, busy_timeout=0) as store:
            assert store.migrations() == [m.name for m in MIGRATIONS]
    finally:
        other.execute("ROLLBACK")
        other.close()
