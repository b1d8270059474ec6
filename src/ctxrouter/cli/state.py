"""What every CLI command shares: the settings, loaded once, and things built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ctxrouter.config import Settings

if TYPE_CHECKING:
    from ctxrouter.catalog.catalog import Catalog
    from ctxrouter.models.registry import ModelRegistry


@dataclass
class AppState:
    config_file: Path | None = None
    _settings: Settings | None = None
    _catalog: Catalog | None = field(default=None, repr=False)
    _registry: ModelRegistry | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load(self.config_file)
        return self._settings

    def catalog(self, extra_dirs: list[Path] | None = None) -> Catalog:
        from ctxrouter.catalog.loader import load_catalog

        if extra_dirs:
            return load_catalog(self.settings, extra_dirs=extra_dirs)
        if self._catalog is None:
            self._catalog = load_catalog(self.settings)
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
