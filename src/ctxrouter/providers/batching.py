"""Message Batches behind the one-call :class:`~ctxrouter.providers.base.Provider` contract.

:class:`MessageBatcher` wraps a provider that can run batches (:class:`BatchCapable`, such as
:class:`~ctxrouter.providers.anthropic.AnthropicProvider`) and turns many concurrent
``complete(call)`` calls into Message Batches, at half the price of one call each and with an
answer within 24 hours: for pipeline steps that can wait. ::

    async with MessageBatcher(AnthropicProvider()) as batcher:
        answers = await asyncio.gather(*(batcher.complete(call) for call in calls))

Calls queue up. A batch is sent when ``max_batch`` calls are waiting, or ``max_wait_s`` after
the first of them queued; every caller awaits its own answer (or its own ``ProviderError``: one
failed request fails only its caller; a batch that could not be run fails all of them).

Waits go through ``sleep`` (default :func:`asyncio.sleep`; a :class:`~ctxrouter.clock.
Clock`'s ``sleep`` runs them on virtual time): the ``max_wait_s`` wait and the polls of each
batch. ``aclose()`` sends what is queued and waits for every batch (``flush=False`` instead
fails the waiting callers and cancels the batches), then closes the wrapped provider.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ctxrouter.errors import ConfigError, ProviderError
from ctxrouter.providers.base import ClosesOnExit, ModelCall, ModelResponse, Provider

MAX_BATCH_REQUESTS = 100_000  # the Message Batches API's limit per batch

Sleep = Callable[[float], Awaitable[None]]


@runtime_checkable
class BatchCapable(Protocol):
    """A provider that can run many calls as one batch (``(custom_id, call)`` pairs in, each
    ``custom_id``'s response or error out)."""

    name: str

    async def run_batch(
        self,
        calls: Sequence[tuple[str, ModelCall]],
        *,
        poll_interval_s: float = ...,
        timeout_s: float = ...,
        sleep: Sleep | None = ...,
    ) -> Mapping[str, ModelResponse | ProviderError]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Waiting:
    custom_id: str
    call: ModelCall
    future: asyncio.Future[ModelResponse]
    queued_at: float  # perf_counter


class MessageBatcher(ClosesOnExit):
    """A :class:`~ctxrouter.providers.base.Provider` that answers ``complete`` through
    Message Batches of the wrapped ``provider`` (which it owns: ``aclose`` closes it).

    ``latency_s`` of an answer is the caller's wait: from queueing to the batch's results.
    ``poll_interval_s`` and ``timeout_s`` are passed to ``run_batch``.
    """

    def __init__(
        self,
        provider: Provider,
        *,
        max_batch: int = 1000,
        max_wait_s: float = 2.0,
        poll_interval_s: float = 30.0,
        timeout_s: float = 86400.0,
        sleep: Sleep | None = None,
    ) -> None:
        if not isinstance(provider, BatchCapable):
            raise ConfigError(
                f"provider {getattr(provider, 'name', type(provider).__name__)!r} cannot run "
                "Message Batches (it has no run_batch method); wrap an AnthropicProvider"
            )
        if not 1 <= max_batch <= MAX_BATCH_REQUESTS:
            raise ConfigError(f"max_batch must be 1 to {MAX_BATCH_REQUESTS}, got {max_batch}")
        if max_wait_s < 0:
            raise ConfigError(f"max_wait_s must be >= 0, got {max_wait_s}")
        self.name = f"{provider.name}-batch"
        self._provider: BatchCapable = provider
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._poll_interval_s = poll_interval_s
        self._timeout_s = timeout_s
        self._sleep: Sleep = sleep if sleep is not None else asyncio.sleep
        self._ids = itertools.count(1)
        self._queue: list[_Waiting] = []
        self._timer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # the timer and the batches in flight
        self._in_flight = 0
        self._closed = False

    @property
    def provider(self) -> BatchCapable:
        return self._provider

    @property
    def pending(self) -> int:
        """How many calls are queued and not sent yet."""
        return sum(not waiting.future.done() for waiting in self._queue)

    @property
    def in_flight(self) -> int:
        """How many batches have been sent and not answered yet."""
        return self._in_flight

    async def complete(self, call: ModelCall) -> ModelResponse:
        if self._closed:
            raise RuntimeError(f"{self.name}: complete() after aclose()")
        future: asyncio.Future[ModelResponse] = asyncio.get_running_loop().create_future()
        self._queue.append(_Waiting(f"call-{next(self._ids)}", call, future, time.perf_counter()))
        if len(self._queue) >= self._max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = self._spawn(self._wait_then_flush(), "wait")
        return await future

    async def aclose(self, *, flush: bool = True) -> None:
        """Send what is queued and wait for every batch; or, with ``flush=False``, fail the
        waiting callers and cancel the batches. Then close the wrapped provider."""
        self._closed = True
        if flush:
            self._flush()
        else:
            self._stop_timer()
            queued, self._queue = self._queue, []
            _fail(queued, self._closed_error())
            for task in self._tasks:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._provider.aclose()

    # -- internals ----------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=f"{self.name}-{what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _wait_then_flush(self) -> None:
        await self._sleep(self._max_wait_s)
        self._timer = None  # this task is ending: _flush must not cancel it
        self._flush()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _flush(self) -> None:
        """Send the queued calls (those whose caller still waits) as one batch."""
        self._stop_timer()
        batch = [waiting for waiting in self._queue if not waiting.future.done()]
        self._queue = []
        if batch:
            self._spawn(self._run(batch), "batch")

    async def _run(self, batch: list[_Waiting]) -> None:
        calls = [(waiting.custom_id, waiting.call) for waiting in batch]
        self._in_flight += 1
        try:
            outcomes = await self._provider.run_batch(
                calls,
                poll_interval_s=self._poll_interval_s,
                timeout_s=self._timeout_s,
                sleep=self._sleep,
            )
        except asyncio.CancelledError:
            _fail(batch, self._closed_error())
            raise
        except Exception as exc:  # every caller gets the batch's failure, none waits forever
            _fail(batch, exc)
            return
        finally:
            self._in_flight -= 1
        answered = time.perf_counter()
        for waiting in batch:
            outcome = outcomes.get(waiting.custom_id)
            if waiting.future.done():  # its caller was cancelled
                continue
            if isinstance(outcome, ModelResponse):
                latency = answered - waiting.queued_at
                waiting.future.set_result(dataclasses.replace(outcome, latency_s=latency))
            elif isinstance(outcome, ProviderError):
                waiting.future.set_exception(outcome)
            else:
                waiting.future.set_exception(
                    ProviderError(
                        f"{waiting.call.model}: {self.name} got no result for this call",
                        model=waiting.call.model,
                        provider=self.name,
                        error_type="missing",
                    )
                )

    def _closed_error(self) -> ProviderError:
        return ProviderError(
            f"{self.name} was closed before this call's batch was answered; "
            "close it with flush=True to wait for the answers",
            provider=self.name,
            error_type="closed",
        )


def _fail(batch: Sequence[_Waiting], error: BaseException) -> None:
    for waiting in batch:
        if not waiting.future.done():
            waiting.future.set_exception(error)


__all__ = ["MAX_BATCH_REQUESTS", "BatchCapable", "MessageBatcher"]
