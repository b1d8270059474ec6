"""What every CLI command shares: the settings, loaded once, and things built from them,
among them the event store (:meth:`AppState.store`), the one way commands open it."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from ctxrouter.config import Settings
from ctxrouter.errors import ConfigError, CtxRouterError, Problem
from ctxrouter.telemetry.location import is_postgres_url, store_label

if TYPE_CHECKING:
    from ctxrouter.catalog.catalog import Catalog
    from ctxrouter.execution.runtime import Runtime
    from ctxrouter.models.registry import ModelRegistry
    from ctxrouter.telemetry.postgres import PostgresStore
    from ctxrouter.telemetry.sqlite import SQLiteStore
    from ctxrouter.telemetry.store import Store

T = TypeVar("T")


@dataclass(frozen=True)
class StoreTarget:
    """The event store a command uses, before it is opened: a ``--db`` override (a SQLite file
    or a PostgreSQL URL) or else the settings' store (``store_url``, else the SQLite file)."""

    source: Settings | Path | str  # what open_store is given
    schema: str | None = None  # for a --db PostgreSQL URL: the settings' store_schema

    @property
    def path(self) -> Path | None:
        """The SQLite file, or ``None`` for a PostgreSQL store."""
        if isinstance(self.source, Path):
            return self.source
        if isinstance(self.source, Settings) and self.source.store_url is None:
            return self.source.database_path
        return None

    @property
    def label(self) -> str:
        """Which store, for people (a password masked): see :func:`store_label`."""
        return store_label(self.source, schema=self.schema)

    def exists(self) -> bool:
        """False for a SQLite file not created yet: a reader finds nothing there and should not
        create it. A PostgreSQL store is found by opening it."""
        return self.path is None or self.path.exists()

    def open(self) -> SQLiteStore | PostgresStore:
        """Open it (migrating it when needed). A store that cannot be opened raises a one-line
        :class:`ConfigError` that names it, whatever the driver said."""
        from ctxrouter.telemetry import open_store

        try:
            return open_store(self.source, schema=self.schema)
        except CtxRouterError as exc:  # already names the store; libpq's can span lines
            raise ConfigError(_one_line(str(exc))) from None
        except Exception as exc:
            if not _driver_error(exc):
                raise
            detail = _one_line(str(exc) or type(exc).__name__)
            raise ConfigError(f"cannot open the event store {self.label}: {detail}") from None

    def read(self, reader: Callable[[Store], T], empty: T) -> T:
        """``reader(store)``, or ``empty`` when the store is a SQLite file not created yet
        (looking creates nothing)."""
        if not self.exists():
            return empty
        with self.open() as store:
            return reader(store)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _driver_error(exc: Exception) -> bool:
    """A file system, SQLite or PostgreSQL error (psycopg is looked at only if imported)."""
    if isinstance(exc, OSError | sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, psycopg.Error)


@dataclass
class AppState:
    config_file: Path | None = None
    _settings: Settings | None = None
    _catalog: Catalog | None = field(default=None, repr=False)
    _catalog_dirs: tuple[Path, ...] = field(default=(), repr=False)
    catalog_problems: list[Problem] = field(default_factory=list, repr=False)
    agent_dirs: tuple[Path, ...] = ()
    _registry: ModelRegistry | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load(self.config_file)
        return self._settings

    def use_agents(self, dirs: Sequence[Path] | None) -> None:
        """The ``--agents`` folders of this command: every later :meth:`catalog` (and the
        runtime built from it) reads them too."""
        self.agent_dirs = tuple(dirs or ())

    def catalog(
        self, extra_dirs: Sequence[Path] | None = None, *, exclude: Sequence[Path] = ()
    ) -> Catalog:
        """The agents every entry point sees (:func:`~ctxrouter.catalog.discover_catalog`),
        plus ``--agents`` folders (``extra_dirs``, else :meth:`use_agents`'), without
        ``exclude``; files that do not parse are named on stderr and skipped."""
        dirs = tuple(extra_dirs) if extra_dirs else self.agent_dirs
        key = (*dirs, *(Path("!") / p for p in exclude))
        if self._catalog is None or self._catalog_dirs != key:
            from ctxrouter.catalog.discovery import discover_catalog
            from ctxrouter.cli.output import stderr

            catalog, problems = discover_catalog(self.settings, dirs, exclude=exclude)
            console = stderr()
            for problem in problems:
                what = "skipped" if problem.severity == "error" else "warning"
                console.print(f"{what}: {problem}", highlight=False, markup=False)
            self._catalog, self._catalog_dirs = catalog, key
            self.catalog_problems = problems
        return self._catalog

    def registry(self) -> ModelRegistry:
        from ctxrouter.models.registry import ModelRegistry

        if self._registry is None:
            self._registry = ModelRegistry.load(self.settings)
        return self._registry

    def store_target(self, db: str | Path | None = None) -> StoreTarget:
        """The event store: ``db`` (a command's ``--db``: a SQLite file or a PostgreSQL URL,
        whose schema is the ``store_schema`` setting) or else the settings' store."""
        if db is None:
            return StoreTarget(self.settings)
        if isinstance(db, str) and is_postgres_url(db):
            return StoreTarget(db, schema=self.settings.store_schema)
        return StoreTarget(Path(db))

    def store(self, db: str | Path | None = None) -> SQLiteStore | PostgresStore:
        """The event store, opened: see :meth:`store_target` and :meth:`StoreTarget.open`."""
        return self.store_target(db).open()

    def runtime(
        self,
        provider: str | None = None,
        *,
        batch: bool = False,
        catalog: Catalog | None = None,
    ) -> Runtime:
        """The runtime that runs tasks (``run``, ``pipeline run``, ``batch run``), recording
        into :meth:`store`, with ``catalog`` (default: :meth:`catalog`). A misspelt provider
        fails before the store is opened."""
        from ctxrouter.execution.runtime import Runtime
        from ctxrouter.providers.registry import load_factory

        load_factory(provider or self.settings.providers.default)
        store = self.store()
        try:
            return Runtime.open(
                self.settings,
                provider=provider,
                catalog=catalog if catalog is not None else self.catalog(),
                registry=self.registry(),
                store=store,
                batch=batch,
            )
        except BaseException:
            store.close()
            raise


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppState):
        obj = AppState()
        ctx.find_root().obj = obj
    return obj
