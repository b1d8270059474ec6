"""Store fixtures (a pytest plugin, loaded by tests/conftest.py): every :class:`Store` backend,
fresh per test, for the store suite (tests/telemetry) and the CLI's commands (tests/cli).

``any_store`` (and ``store_backend``, which can reopen it, tamper with it from outside and point
the settings at it) runs a test on a new SQLite file and on a new schema of the PostgreSQL server
at ``$CTXROUTER_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); the
schema has a random name and is dropped, with everything in it, after the test. Without a
reachable server (or without psycopg) the PostgreSQL half is skipped, with the reason, unless
``CTXROUTER_REQUIRE_SERVICES=1`` (CI), where it fails instead.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ctxrouter.telemetry.location import store_label
from ctxrouter.telemetry.sqlite import SQLiteStore

if TYPE_CHECKING:
    from ctxrouter.telemetry.postgres import PostgresStore

    AnyStore = SQLiteStore | PostgresStore

# Read once, at import, like tests/conftest.py: the autouse isolated_env fixture then clears
# every CTXROUTER_* variable but CTXROUTER_REQUIRE_SERVICES for each test.
POSTGRES_URL = os.environ.get(
    "CTXROUTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("CTXROUTER_REQUIRE_SERVICES") == "1"


@dataclass(frozen=True)
class StoreBackend:
    """One backend, at one fresh location."""

    name: str
    open: Callable[[], AnyStore]  # a new store on the location (reopening it)
    raw: Callable[[str], list[tuple[Any, ...]]]  # SQL run from outside the store, committed
    errors: tuple[type[BaseException], ...]  # what a refused write raises
    env: dict[str, str]  # the CTXROUTER_* variables that make it the settings' store
    db: str  # how a command's --db names it (a PostgreSQL schema: from store_schema)
    label: str  # how the CLI names it


def _unavailable(reason: str) -> None:
    """Skip the test, or fail it when CTXROUTER_REQUIRE_SERVICES=1 (CI must run it)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}, and CTXROUTER_REQUIRE_SERVICES=1 requires it")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_probe() -> str | None:
    """Why PostgreSQL cannot be used, or ``None`` when it can (one probe per session)."""
    try:
        import psycopg
    except ImportError as exc:
        return f"psycopg is not installed ({exc}): pip install -e '.[dev]'"
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        return f"PostgreSQL is not reachable at {POSTGRES_URL}: {str(exc).strip()}"
    return None


@pytest.fixture
def psycopg_installed() -> None:
    """For tests that need the driver but no server."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        _unavailable(f"psycopg is not installed ({exc})")


@pytest.fixture
def pg_schema(postgres_probe: str | None) -> Iterator[tuple[str, str]]:
    """``(url, schema)``: a schema name no other test uses, dropped after the test."""
    if postgres_probe is not None:
        _unavailable(postgres_probe)
    import psycopg
    from psycopg import sql

    schema = f"ctxrouter_test_{uuid.uuid4().hex[:12]}"
    yield POSTGRES_URL, schema
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def sqlite_backend(path: Path) -> StoreBackend:
    def raw(statement: str) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute(statement).fetchall()
            conn.commit()
        finally:
            conn.close()
        return rows

    return StoreBackend(
        "sqlite",
        lambda: SQLiteStore(path),
        raw,
        (sqlite3.Error, ValueError),
        env={"CTXROUTER_DATABASE": str(path)},
        db=str(path),
        label=str(path),
    )


def postgres_backend(url: str, schema: str) -> StoreBackend:
    import psycopg
    from psycopg import sql

    from ctxrouter.telemetry.postgres import PostgresStore

    def raw(statement: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    return StoreBackend(
        "postgres",
        lambda: PostgresStore(url, schema=schema),
        raw,
        (psycopg.Error, ValueError, TypeError),
        env={"CTXROUTER_STORE_URL": url, "CTXROUTER_STORE_SCHEMA": schema},
        db=url,
        label=store_label(url, schema=schema),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    if request.param == "sqlite":
        return sqlite_backend(tmp_path / "store.db")
    url, schema = request.getfixturevalue("pg_schema")
    return postgres_backend(url, schema)


@pytest.fixture
def any_store(store_backend: StoreBackend) -> Iterator[AnyStore]:
    """A fresh, empty store of each backend."""
    with store_backend.open() as store:
        yield store


@pytest.fixture
def pg_backend(pg_schema: tuple[str, str]) -> StoreBackend:
    """The PostgreSQL backend alone, for what only it does."""
    return postgres_backend(*pg_schema)
