"""Everything a run needs, built from the settings in one place.

::

    async with Runtime.open(Settings.load()) as runtime:
        result = await runtime.run(RouteRequest(task="Threat model the login flow"))
        print(result.text, result.model, result.cost_usd)

Closing the runtime flushes the telemetry (nothing recorded is lost on a clean exit) and
closes the provider and the store.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from ctxrouter.catalog.catalog import Catalog
from ctxrouter.catalog.discovery import discover_catalog
from ctxrouter.clock import Clock, RealClock, VirtualClock
from ctxrouter.config import Settings
from ctxrouter.execution.attempts import AttemptEngine
from ctxrouter.execution.executor import Executor
from ctxrouter.execution.result import RunOptions, RunResult
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.providers.base import ClosesOnExit, Provider
from ctxrouter.providers.registry import create_provider
from ctxrouter.routing.request import RouteRequest
from ctxrouter.routing.router import Router
from ctxrouter.telemetry import open_store
from ctxrouter.telemetry.recorder import Recorder
from ctxrouter.telemetry.sink import event_sink
from ctxrouter.telemetry.store import Store

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Runtime(ClosesOnExit):
    """The parts a run uses, built from the settings by :meth:`open`."""

    settings: Settings
    catalog: Catalog
    registry: ModelRegistry
    router: Router
    provider: Provider
    store: Store
    recorder: Recorder
    executor: Executor
    clock: Clock

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        provider: str | Provider | None = None,
        clock: Clock | None = None,
        catalog: Catalog | None = None,
        registry: ModelRegistry | None = None,
        store: Store | None = None,
        batch: bool = False,
        jitter_seed: int | None = None,
    ) -> Runtime:
        """Build the runtime. ``batch`` adds the Message Batches path for batchable steps
        (the provider must support it: the anthropic one does)."""
        name = provider if isinstance(provider, str) else settings.providers.default
        if clock is None:
            # The simulated provider waits on virtual time that starts now: runs report the
            # simulated latencies without making anyone wait for them (unless time_scale > 0).
            simulated = provider is None or isinstance(provider, str)
            simulated = simulated and name == "simulated"
            scaled = settings.providers.simulated_time_scale > 0
            clock = VirtualClock(start=time.time()) if simulated and not scaled else RealClock()
        if provider is None or isinstance(provider, str):  # first: a bad provider opens nothing
            provider = create_provider(name, settings, clock)
        if jitter_seed is None and provider.name == "simulated":
            jitter_seed = settings.providers.simulated_seed  # a simulation repeats for a seed
        if catalog is None:
            catalog, problems = discover_catalog(settings)
            for problem in problems:
                log.warning("agent file skipped: %s", problem)
        registry = registry or ModelRegistry.load(settings)
        store = store or open_store(settings)
        router = Router.from_settings(settings, catalog, registry, store=store, now=clock.now())
        recorder, sink = event_sink(store, settings)
        batch_provider = None
        if batch:
            from ctxrouter.providers.batching import MessageBatcher

            batch_provider = MessageBatcher(
                provider,
                max_wait_s=settings.providers.batch_max_wait_s,
                poll_interval_s=settings.providers.batch_poll_interval_s,
                sleep=clock.sleep,
            )
        engine = AttemptEngine.from_settings(settings.retry, registry, clock=clock, sink=sink)
        executor = Executor(
            router, provider, engine, runtime=settings.runtime, batch_provider=batch_provider,
            jitter_seed=jitter_seed,
        )  # fmt: skip
        parts = (catalog, registry, router, provider, store, recorder, executor, clock)
        return cls(settings, *parts)

    async def run(self, request: RouteRequest, options: RunOptions | None = None) -> RunResult:
        return await self.executor.run(request, options)

    async def aclose(self) -> None:
        try:
            # the batcher sends what is queued, waits for its batches, then closes the provider
            batcher = self.executor.batch_provider
            await (batcher.aclose() if batcher is not None else self.provider.aclose())
        finally:
            self.recorder.close()
            self.store.close()
