"""The attempt engine: the one loop that tries models for the runtime and the gateway.

For an ordered list of options (the routed model, then the agent's fallbacks:
:func:`attempt_options`) the engine tries each model in turn: it asks the circuit breaker,
creates an :class:`AttemptHandle` (the attempt's number, its fallback origin, its
:class:`~ctxrouter.telemetry.event.Event`), lets its guards reserve, and awaits the caller's
``send``. A retryable :class:`~ctxrouter.errors.ProviderError` is retried on the same model
with backoff (:class:`~ctxrouter.execution.retry.RetryPolicy`: full jitter, never less than a
``retry-after``, a ``retry-after`` longer than ``retry.max_retry_after_s`` moves on), up to
``retry.max_attempts`` tries per model while fallbacks remain and ``retry.run_max_attempts``
tries per run in all; then the next option. A failure that is not retryable surfaces at once.
When every option has failed, :class:`~ctxrouter.errors.FallbackExhausted` carries each
attempt. Every attempt that reached the provider ends as exactly one Event, sent to the sink.

What callers do differently stays with them: the executor's ``send`` calls a
:class:`~ctxrouter.providers.base.Provider` and judges the answer (an accepted or rejected
answer is emitted once judged); the gateway's ``send`` relays bytes (a stream's event is
emitted when the stream ends), and it reads :attr:`AttemptHandle.final` to pass a failing
stream through when no try would follow.

Seams for what plugs in next:

- **Guards** (:class:`AttemptGuard`, e.g. cost budgets): ``reserve`` runs before each
  attempt with everything known about it (model, tier, run template with agent, user, arm)
  and may refuse with :class:`~ctxrouter.errors.BudgetExceeded`; ``settle`` gets the
  attempt's final Event (its cost); ``release`` runs when the attempt ends without one.
- **The run template** (:class:`AttemptRun`): the fields every attempt's Event shares, set
  by the caller: agent, category, user, session, the experiment arm, the route reason.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from ctxrouter.catalog.agent import Agent
from ctxrouter.clock import Clock, RealClock
from ctxrouter.config import RetrySettings
from ctxrouter.errors import Attempt, CircuitOpenError, FallbackExhausted, ProviderError
from ctxrouter.execution.breaker import CircuitBreaker
from ctxrouter.execution.retry import RetryPolicy
from ctxrouter.models.pricing import Usage
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.policy.tier import Tier
from ctxrouter.telemetry.event import Event, Outcome, new_id

T = TypeVar("T")
log = logging.getLogger(__name__)
EventSink = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class Option:
    """One model to try, and its tier (``None``: a model no tier maps to)."""

    model: str
    tier: Tier | None


def attempt_options(
    agent: Agent | None,
    tier: Tier,
    tier_models: dict[Tier, str],
    *,
    escalated_from: Tier | None = None,
) -> list[Option]:
    """The routed tier's model, then the agent's fallback tiers' models, in policy order.

    An escalated attempt never falls back below the tier it escalated to; a model appears
    once."""
    tiers = [tier]
    if agent is not None:
        for fallback in agent.policy.fallbacks:
            if fallback not in tiers and (escalated_from is None or fallback >= tier):
                tiers.append(fallback)
    options: list[Option] = []
    for t in tiers:
        model = tier_models.get(t)
        if model is not None and all(o.model != model for o in options):
            options.append(Option(model, t))
    return options


@dataclass(slots=True)
class AttemptRun:
    """One run (or one gateway request) across its attempts.

    ``template`` holds the Event fields every attempt shares (``run_id``, agent, user, ...);
    the engine adds the rest per attempt. (A mapping, not an Event: each attempt's Event is
    built once, when it ends: a ``dataclasses.replace`` of its 45 fields costs ~9 µs.)"""

    template: dict[str, Any]
    rng: random.Random
    events: list[Event] = field(default_factory=list)
    failures: list[Attempt] = field(default_factory=list)
    attempts: int = 0  # attempts made (each reached ``send``)

    @classmethod
    def start(cls, run_id: str, rng: random.Random, **shared: Any) -> AttemptRun:
        """A run whose every attempt's Event has the fields ``shared`` (agent, user, ...);
        the engine fills in the rest per attempt (id, time, model, tier, number). A name that
        is not an Event field fails when the first Event is built."""
        return cls({"run_id": run_id, "agent": None, **shared}, rng)

    @property
    def run_id(self) -> str:
        return str(self.template["run_id"])

    @property
    def failed_calls(self) -> int:
        return sum(1 for a in self.failures if a.error is not None)


class AttemptGuard(Protocol):
    """Something that must agree to each attempt and learn what it cost (budgets)."""

    def reserve(self, attempt: AttemptHandle) -> None:
        """Before the attempt; raise (``BudgetExceeded``) to refuse it."""
        ...

    def settle(self, attempt: AttemptHandle, event: Event) -> None:
        """The attempt's final Event (its ``cost_usd`` is what it cost)."""
        ...

    def release(self, attempt: AttemptHandle) -> None:
        """The attempt ended without an Event (cancelled, or refused by a later guard)."""
        ...


class AttemptHandle:
    """One try of one model: what the caller's ``send`` needs, and how it reports back."""

    def __init__(
        self,
        engine: AttemptEngine,
        run: AttemptRun,
        option: Option,
        *,
        fallback_from: str | None,
        escalated_from: Tier | None,
        final: bool,
    ) -> None:
        self.engine = engine
        self.run = run
        self.option = option
        self.final = final  # no further try follows a failure of this one
        run.attempts += 1
        self.number = run.attempts
        self.started = engine.clock.now()
        self.started_monotonic = time.perf_counter()
        self.fields: dict[str, Any] = {
            **run.template,
            "event_id": new_id(),
            "ts": self.started,
            "model": option.model,
            "tier": option.tier.value if option.tier is not None else None,
            "attempt": self.number,
            "fallback_from": fallback_from,
            "escalated_from": escalated_from.value if escalated_from is not None else None,
        }
        self.emitted = False

    @property
    def model(self) -> str:
        return self.option.model

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started_monotonic) * 1000.0

    def answered(self, usage: Usage | None, *, model: str | None = None, **fields: Any) -> Event:
        """The Event of an answer: ``usage`` priced at ``model`` (default: the attempt's) on
        the day the attempt started; not emitted yet (see :meth:`emit`)."""
        values = {"outcome": Outcome.SUCCESS, **self.fields, **fields}
        if usage is not None:
            values.update(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_creation_5m_tokens=usage.cache_creation_5m_tokens,
                cache_creation_1h_tokens=usage.cache_creation_1h_tokens,
                cache_read_tokens=usage.cache_read_tokens,
                cost_usd=self.engine.cost(
                    model or self.model, usage, values["ts"], values.get("batch", False)
                ),
            )
        return Event(**values)

    def failed(self, error: ProviderError, **fields: object) -> Event:
        """Emit the Event of a failed attempt (``fields`` add to or correct what the error
        says: a stream's ``status_code`` 200, its ``ttft_ms``, ...)."""
        values: dict[str, Any] = {
            **self.fields,
            "outcome": Outcome.ERROR,
            "error_type": error.kind,
            "status_code": error.status,
            "request_id": error.request_id,
            "latency_ms": (self.engine.clock.now() - self.started) * 1000,
            **fields,
        }
        event = Event(**values)
        self.emit(event)
        return event

    def emit(self, event: Event) -> None:
        """Record the attempt's final Event (once): the run, the guards, the sink."""
        if self.emitted:
            return
        self.emitted = True
        self.run.events.append(event)
        for guard in self.engine.guards:
            guard.settle(self, event)
        if self.engine.sink is not None:
            try:
                self.engine.sink(event)
            except Exception:  # telemetry must never break the answer
                log.exception("the telemetry sink failed on event %s", event.event_id)

    def abandon(self) -> None:
        """The attempt ends without an Event: guards release what they reserved."""
        if self.emitted:
            return
        self.emitted = True
        for guard in self.engine.guards:
            guard.release(self)


Send = Callable[[AttemptHandle], Awaitable[T]]


class AttemptEngine:
    """Tries options in order with retries, backoff, a circuit breaker per model, a run-wide
    attempt budget and guards; one Event per attempt. One engine serves many runs."""

    def __init__(
        self,
        *,
        retry: RetryPolicy,
        breaker: CircuitBreaker,
        registry: ModelRegistry,
        clock: Clock | None = None,
        sink: EventSink | None = None,
        guards: Sequence[AttemptGuard] = (),
    ) -> None:
        self.retry = retry
        self.breaker = breaker
        self.registry = registry
        self.clock = clock or RealClock()
        self.sink = sink
        self.guards = tuple(guards)

    @classmethod
    def from_settings(
        cls,
        settings: RetrySettings,
        registry: ModelRegistry,
        *,
        clock: Clock | None = None,
        sink: EventSink | None = None,
        breaker: CircuitBreaker | None = None,
        guards: Sequence[AttemptGuard] = (),
    ) -> AttemptEngine:
        """The engine the ``retry`` settings describe."""
        return cls(
            retry=RetryPolicy(
                max_attempts=settings.max_attempts,
                run_max_attempts=settings.run_max_attempts,
                base_delay_s=settings.base_delay_s,
                max_delay_s=settings.max_delay_s,
                max_retry_after_s=settings.max_retry_after_s,
            ),
            breaker=breaker
            or CircuitBreaker(
                failure_rate=settings.breaker_failure_rate,
                window=settings.breaker_window,
                min_calls=min(settings.breaker_min_calls, settings.breaker_window),
                reset_after_s=settings.breaker_reset_s,
            ),
            registry=registry,
            clock=clock,
            sink=sink,
            guards=guards,
        )

    def cost(self, model: str, usage: Usage, ts: float, batch: bool = False) -> float | None:
        """What ``usage`` cost on ``model`` the day of ``ts`` (``None``: unpriced)."""
        day = datetime.fromtimestamp(ts, UTC).date()
        quote = self.registry.quote(model, usage, day=day, batch=batch)
        return quote.cost.total if quote.cost is not None else None

    async def run(
        self,
        run: AttemptRun,
        options: Sequence[Option],
        send: Send[T],
        *,
        escalated_from: Tier | None = None,
    ) -> tuple[T, AttemptHandle]:
        """Try ``options`` until one answers; returns ``send``'s result and its attempt."""
        if not options:
            raise ValueError("no model to try")
        primary = options[0].model
        for index, option in enumerate(options):
            last_option = index == len(options) - 1
            tries = 0
            while True:
                now = self.clock.now()
                if not self.breaker.allow(option.model, now):
                    error = CircuitOpenError(option.model, self.breaker.retry_in(option.model, now))
                    tier = option.tier.value if option.tier is not None else "?"
                    run.failures.append(
                        Attempt(option.model, tier, run.attempts + 1, None, str(error))
                    )
                    break
                tries += 1
                handle = AttemptHandle(
                    self,
                    run,
                    option,
                    fallback_from=primary if option.model != primary else None,
                    escalated_from=escalated_from,
                    # the last option is retried until the run's budget is spent
                    final=last_option and run.failed_calls + 1 >= self.retry.run_max_attempts,
                )
                try:
                    for guard in self.guards:
                        guard.reserve(handle)
                    result = await send(handle)
                except ProviderError as error:
                    if not handle.emitted:  # the caller may have recorded it with more detail
                        handle.failed(error)
                    tier = option.tier.value if option.tier is not None else "?"
                    run.failures.append(Attempt(option.model, tier, handle.number, error))
                    if not error.retryable:
                        self.breaker.success(option.model)  # the model is up; the request is not
                        raise
                    self.breaker.failure(option.model, self.clock.now())
                    if self.retry.should_retry(
                        error, tries, last_option=last_option, run_attempts=run.failed_calls
                    ):
                        await self.clock.sleep(self.retry.delay(tries, error, run.rng))
                        continue
                    break
                except BaseException:
                    handle.abandon()
                    raise
                self.breaker.success(option.model)
                return result, handle
        raise FallbackExhausted(run.failures, run_id=run.run_id)


__all__ = [
    "AttemptEngine",
    "AttemptGuard",
    "AttemptHandle",
    "AttemptRun",
    "EventSink",
    "Option",
    "Send",
    "attempt_options",
]
