"""What every CLI command shares: the settings, loaded once, and things built from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ctxrouter.config import Settings
from ctxrouter.errors import Problem

if TYPE_CHECKING:
    from ctxrouter.catalog.catalog import Catalog
    from ctxrouter.models.registry import ModelRegistry


@dataclass
class AppState:
    config_file: Path | None = None
    _settings: Settings | None = None
    _catalog: Catalog | None = field(default=None, repr=False)
    _catalog_dirs: tuple[Path, ...] = field(default=(), repr=False)
    catalog_problems: list[Problem] = field(default_factory=list, repr=False)
    _registry: ModelRegistry | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load(self.config_file)
        return self._settings

    def catalog(
        self, extra_dirs: Sequence[Path] | None = None, *, exclude: Sequence[Path] = ()
    ) -> Catalog:
        """The agents every entry point sees (:func:`~ctxrouter.catalog.discover_catalog`),
        plus ``--agents`` folders, without ``exclude``; files that do not parse are named on
        stderr and skipped."""
        key = (*(extra_dirs or ()), *(Path("!") / p for p in exclude))
        if self._catalog is None or self._catalog_dirs != key:
            from ctxrouter.catalog.discovery import discover_catalog
            from ctxrouter.cli.output import stderr

            catalog, problems = discover_catalog(
                self.settings, tuple(extra_dirs or ()), exclude=exclude
            )
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


def state(ctx: typer.Context) -> AppState:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppState):
        obj = AppState()
        ctx.find_root().obj = obj
    return obj
