"""Building the router from the settings: the one way every entry point gets one."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ctxrouter.catalog.catalog import Catalog
from ctxrouter.config import Settings
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.routing.corrections import CorrectionStage, CorrectionStats, read_corrections
from ctxrouter.routing.router import Router

if TYPE_CHECKING:
    from ctxrouter.telemetry.store import Store

log = logging.getLogger(__name__)


def build_router(
    settings: Settings,
    catalog: Catalog | None = None,
    registry: ModelRegistry | None = None,
    *,
    store: Store | None = None,
    read_store: bool = True,
    now: float | None = None,
) -> Router:
    """See :meth:`Router.from_settings`."""
    if catalog is None:
        from ctxrouter.catalog.discovery import discover_catalog

        catalog, problems = discover_catalog(settings)
        for problem in problems:
            log.warning("agent file skipped: %s", problem)
    if registry is None:
        registry = ModelRegistry.load(settings)
    stats: dict[str, CorrectionStats] = {}
    if store is not None:
        stats = read_corrections(store, settings.runtime, now if now is not None else time.time())
    elif read_store:
        stats = configured_corrections(settings, now)
    corrections = CorrectionStage.from_settings(settings.runtime, stats)
    return Router(catalog, registry.tier_map).with_stage(corrections, after="conditions")


def configured_corrections(
    settings: Settings, now: float | None = None
) -> dict[str, CorrectionStats]:
    """The correction counts in the configured store; none when it does not exist yet (a
    SQLite file is never created just to find it empty)."""
    if settings.store_url is None and not settings.database_path.exists():
        return {}
    from ctxrouter.telemetry import open_store

    with open_store(settings) as store:
        return read_corrections(store, settings.runtime, now if now is not None else time.time())


__all__ = ["build_router", "configured_corrections"]
