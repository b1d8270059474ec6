"""The gateway built from the settings: the one way ``ctxrouter serve``, the tests and
``bench/`` get a gateway, so they run what users run.

::

    gateway = build_gateway(Settings.load())
    uvicorn.run(gateway.app, host="127.0.0.1", port=8787)

From the settings: the agents (:func:`~ctxrouter.catalog.discovery.discover_catalog`, plus
``agent_dirs`` given here), the router (:meth:`~ctxrouter.routing.Router.from_settings`, its
correction counts re-read every ``runtime.correction_refresh_s``), the attempt engine
(``[retry]``), ``gateway.upstream``, ``gateway.override``, ``gateway.max_body_bytes``, and the
configured store, written through a :class:`~ctxrouter.telemetry.Recorder` that is flushed at
shutdown (with the ``/metrics`` and ``/dashboard/`` routes over it). A ``sink`` given here
replaces the store (tests collect the Events in a list).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from ctxrouter.catalog.catalog import Catalog
from ctxrouter.catalog.discovery import discover_catalog
from ctxrouter.clock import RealClock
from ctxrouter.config import OverridePolicy, Settings
from ctxrouter.errors import Problem
from ctxrouter.execution.attempts import AttemptEngine, EventSink
from ctxrouter.gateway.app import Task, create_gateway
from ctxrouter.gateway.keys import KeyRing
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.routing.corrections import CorrectionStage, read_corrections
from ctxrouter.routing.router import Router

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Gateway:
    """A gateway app and what it was built from."""

    app: Starlette
    catalog: Catalog
    problems: list[Problem]  # agent files skipped
    router: Router
    engine: AttemptEngine
    upstream: str
    store: str | None  # where events go (a label), None with a caller's sink


def build_gateway(
    settings: Settings,
    *,
    upstream: str | None = None,
    agent_dirs: Sequence[Path] = (),
    override: OverridePolicy | None = None,
    keys: KeyRing | None = None,
    sink: EventSink | None = None,
    routes: Sequence[BaseRoute] = (),
    cwd: Path | None = None,
    home: Path | None = None,
    seed: int | None = None,
) -> Gateway:
    """The gateway the settings describe (see the module's docstring). ``keys``, when given,
    are required on every route but ``/healthz``."""
    catalog, problems = discover_catalog(settings, agent_dirs, cwd=cwd, home=home)
    for problem in problems:
        log.warning("gateway: agent file skipped: %s", problem)
    registry = ModelRegistry.load(settings)
    on_close: list[Callable[[], None]] = []
    background: list[Task] = []
    label = None
    extra_routes = list(routes)
    if sink is None:
        from ctxrouter.dashboard.app import create_app, metrics_route
        from ctxrouter.telemetry import open_store, store_label
        from ctxrouter.telemetry.sink import event_sink

        store = open_store(settings)
        recorder, sink = event_sink(store, settings)
        label = store_label(store)
        on_close.extend([recorder.close, store.close])  # flush what is queued, then close
        router = Router.from_settings(settings, catalog, registry, store=store)
        extra_routes += _dashboard_routes(create_app(store), metrics_route(store))
        stage = router.stage(CorrectionStage.name)
        if isinstance(stage, CorrectionStage):
            refresh_s = settings.runtime.correction_refresh_s

            async def refresh() -> None:
                loop_clock = RealClock()
                while True:
                    await asyncio.sleep(refresh_s)
                    try:
                        stats = await asyncio.to_thread(
                            read_corrections, store, settings.runtime, loop_clock.now()
                        )
                    except Exception:  # a store hiccup keeps the last counts
                        log.exception("gateway: could not re-read the correction counts")
                        continue
                    stage.update(stats)

            background.append(refresh)
    else:  # the configured store's corrections still count (read once)
        router = Router.from_settings(settings, catalog, registry)
    engine = AttemptEngine.from_settings(settings.retry, registry, clock=RealClock(), sink=sink)
    target = upstream or settings.gateway.upstream
    app = create_gateway(
        upstream=target,
        router=router,
        engine=engine,
        override=override or settings.gateway.override,
        max_body_bytes=settings.gateway.max_body_bytes,
        keys=keys,
        routes=extra_routes,
        background=background,
        on_close=on_close,
        seed=seed,
    )
    return Gateway(app, catalog, problems, router, engine, target, label)


def _dashboard_routes(dashboard: Starlette, metrics: BaseRoute) -> list[BaseRoute]:
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount, Route

    return [
        metrics,
        Route("/dashboard", lambda request: RedirectResponse("/dashboard/")),
        Mount("/dashboard", dashboard),
    ]


__all__ = ["Gateway", "build_gateway"]
