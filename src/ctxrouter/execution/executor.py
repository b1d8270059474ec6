"""The executor: run one routed task end to end, surviving failures and weak answers.

For a decision it tries the routed model, retrying retryable failures with backoff (honouring
``retry-after``) while the model's circuit is closed, then the agent's fallbacks in order. A
non-retryable failure (400, 401, 403, 413, a 429 without ``retry-after``) surfaces at once.
When every option fails, :class:`~ctxrouter.errors.FallbackExhausted` carries every attempt.

An answer is then judged: validators first, then the model's own confidence (see
:mod:`ctxrouter.execution.confidence`). A rejected answer is re-run on the escalation tier
(the agent's escalation target, else the next stronger tier its policy allows), at most
``max_escalations`` times. Every attempt becomes one telemetry :class:`Event`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ctxrouter.catalog.agent import Agent
from ctxrouter.clock import Clock, RealClock
from ctxrouter.config import RuntimeSettings
from ctxrouter.errors import (
    Attempt,
    CircuitOpenError,
    CtxRouterError,
    FallbackExhausted,
    ProviderError,
)
from ctxrouter.execution.breaker import CircuitBreaker
from ctxrouter.execution.confidence import SELF_ASSESSMENT_INSTRUCTION, split_confidence
from ctxrouter.execution.result import RunOptions, RunResult
from ctxrouter.execution.retry import RetryPolicy
from ctxrouter.execution.validators import Verdict
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.policy.tier import Tier
from ctxrouter.providers.base import CallContext, Message, ModelCall, ModelResponse, Provider
from ctxrouter.routing.request import Decision, RouteRequest
from ctxrouter.routing.router import Router
from ctxrouter.telemetry.event import Event, Outcome, new_id, sha256

EventSink = Callable[[Event], None]


def escalation_target(agent: Agent | None, tier: Tier) -> Tier | None:
    """The tier a rejected answer on ``tier`` is re-run on, or ``None`` if there is none.

    The agent's escalation target when it is stronger; else the weakest stronger tier its
    policy allows (preference or fallbacks); without an agent, sonnet for a haiku answer.
    Opus is only reached when a policy names it.
    """
    if agent is None or agent.policy.preference is None:
        return Tier.SONNET if tier is Tier.HAIKU else None
    policy = agent.policy
    if policy.escalation is not None and policy.escalation.to > tier:
        return policy.escalation.to
    stronger = [t for t in policy.allowed_tiers if t > tier]
    return min(stronger) if stronger else None


@dataclass(slots=True)
class _Phase:
    """One tier's worth of trying: the routed (or escalated-to) tier and its fallbacks."""

    tier: Tier
    escalated_from: Tier | None


class Executor:
    """Runs routed tasks on a provider. One executor serves many concurrent runs."""

    def __init__(
        self,
        router: Router,
        provider: Provider,
        registry: ModelRegistry,
        *,
        runtime: RuntimeSettings | None = None,
        sink: EventSink | None = None,
        clock: Clock | None = None,
        breaker: CircuitBreaker | None = None,
        batch_provider: Provider | None = None,
        jitter_seed: int | None = None,
    ) -> None:
        self.router = router
        # Backoff jitter is drawn per run: from its random id (decorrelated clients), or, for
        # reproducible simulations, from this seed and the request itself.
        self.jitter_seed = jitter_seed
        self.provider = provider
        self.batch_provider = batch_provider  # the Message Batches path, for batchable work
        self.registry = registry
        self.runtime = runtime or RuntimeSettings()
        self.sink = sink
        self.clock = clock or RealClock()
        rt = self.runtime
        self.breaker = breaker or CircuitBreaker(
            failure_rate=rt.breaker_failure_rate,
            window=rt.breaker_window,
            min_calls=min(rt.breaker_min_calls, rt.breaker_window),
            reset_after_s=rt.breaker_reset_s,
        )
        self.retry = RetryPolicy(
            max_attempts=self.runtime.retry_max_attempts,
            run_max_attempts=self.runtime.retry_run_max_attempts,
            base_delay_s=self.runtime.retry_base_delay_s,
            max_delay_s=self.runtime.retry_max_delay_s,
            max_retry_after_s=self.runtime.retry_max_retry_after_s,
        )

    async def run(self, request: RouteRequest, options: RunOptions | None = None) -> RunResult:
        """Route ``request``, run it, judge the answer, escalate if needed; record everything."""
        options = options or RunOptions()
        decision = self.router.decide(request)
        return await self.run_decision(request, decision, options)

    async def run_decision(
        self, request: RouteRequest, decision: Decision, options: RunOptions
    ) -> RunResult:
        run = _Run(self, request, decision, options)
        try:
            return await run.execute()
        except CtxRouterError as error:
            error.run_events = tuple(run.events)
            raise


class _Run:
    """The state of one run: its attempts so far and its events."""

    def __init__(
        self, ex: Executor, request: RouteRequest, decision: Decision, options: RunOptions
    ) -> None:
        self.ex = ex
        self.request = request
        self.decision = decision
        self.options = options
        self.run_id = options.run_id or new_id()
        self.agent = ex.router.catalog[decision.agent] if decision.agent else None
        self.events: list[Event] = []
        self.failures: list[Attempt] = []
        self.verdicts: list[Verdict] = []
        if ex.jitter_seed is None:
            self.rng = random.Random(self.run_id)
        else:
            r = request
            self.rng = random.Random(f"{ex.jitter_seed}|{r.task_id}|{r.step}|{r.agent}|{r.task}")
        store_text = options.store_text
        self.store_text = ex.runtime.store_text if store_text is None else store_text
        system = (
            options.system
            if options.system is not None
            else (self.agent.body.strip() if self.agent is not None else None)
        )
        if ex.runtime.self_assessment:
            system = (
                f"{system}\n\n{SELF_ASSESSMENT_INSTRUCTION}"
                if system
                else (SELF_ASSESSMENT_INSTRUCTION)
            )
        self.system = system or None
        self._pending: Event | None = None  # the last answered call, until it is judged

    async def execute(self) -> RunResult:
        phase = _Phase(self.decision.tier, None)
        escalations = 0
        while True:
            response, model, tier = await self._run_phase(phase)
            text, confidence = split_confidence(response.text)
            verdict = await self._judge(text, confidence)
            target = escalation_target(self.agent, tier)
            can_escalate = target is not None and escalations < self.ex.runtime.max_escalations
            self._finish_event(verdict, confidence, rejected=not verdict.ok)
            if verdict.ok or not can_escalate:
                assert self.events
                return RunResult(
                    run_id=self.run_id,
                    text=text,
                    model=model,
                    tier=tier.value,
                    decision=self.decision,
                    events=tuple(self.events),
                    accepted=verdict.ok,
                    confidence=confidence,
                    verdicts=tuple(self.verdicts),
                )
            assert target is not None
            escalations += 1
            phase = _Phase(target, tier)

    async def _judge(self, text: str, confidence: float | None) -> Verdict:
        for validator in self.options.validators:
            verdict = await validator.check(text)
            self.verdicts.append(verdict)
            if not verdict.ok:
                return verdict
        threshold = self.ex.runtime.confidence_threshold
        if confidence is not None and confidence < threshold:
            verdict = Verdict(
                False, confidence, f"confidence {confidence:.2f} < {threshold}", "self-assessment"
            )
            self.verdicts.append(verdict)
            return verdict
        return Verdict(True, confidence)

    def _options(self, phase: _Phase) -> list[tuple[Tier, str]]:
        tiers = [phase.tier]
        if self.agent is not None:
            for fallback in self.agent.policy.fallbacks:
                # an escalated phase never falls back below the tier it escalated to
                if fallback not in tiers and (
                    phase.escalated_from is None or fallback >= phase.tier
                ):
                    tiers.append(fallback)
        return [(t, self.ex.router.tier_models[t]) for t in tiers]

    async def _run_phase(self, phase: _Phase) -> tuple[ModelResponse, str, Tier]:
        options = self._options(phase)
        primary = options[0][1]
        for index, (tier, model) in enumerate(options):
            fallback_from = primary if model != primary else None
            last_option = index == len(options) - 1
            tries = 0
            while True:
                now = self.ex.clock.now()
                if not self.ex.breaker.allow(model, now):
                    error = CircuitOpenError(model, self.ex.breaker.retry_in(model, now))
                    self.failures.append(
                        Attempt(model, tier.value, len(self.events) + 1, None, str(error))
                    )
                    break
                tries += 1
                try:
                    response = await self._call(model, tier, phase, fallback_from)
                except ProviderError as error:
                    self.failures.append(Attempt(model, tier.value, len(self.events), error))
                    if error.retryable:
                        self.ex.breaker.failure(model, self.ex.clock.now())
                    else:
                        self.ex.breaker.success(model)  # the model is up; the request is wrong
                        raise
                    calls = sum(1 for a in self.failures if a.error is not None)
                    if self.ex.retry.should_retry(
                        error, tries, last_option=last_option, run_attempts=calls
                    ):
                        await self.ex.clock.sleep(self.ex.retry.delay(tries, error, self.rng))
                        continue
                    break
                self.ex.breaker.success(model)
                return response, model, tier
        raise FallbackExhausted(self.failures, run_id=self.run_id)

    async def _call(
        self, model: str, tier: Tier, phase: _Phase, fallback_from: str | None
    ) -> ModelResponse:
        call = ModelCall(
            model=model,
            messages=(Message("user", self.request.prompt or self.request.task),),
            system=self.system,
            max_tokens=self.options.max_tokens,
            stream=self.options.stream,
            context=CallContext(
                agent=self.decision.agent,
                category=self.agent.category if self.agent is not None else None,
                tier=tier.value,
                run_id=self.run_id,
                attempt=len(self.events) + 1,
            ),
        )
        started = self.ex.clock.now()
        provider = self._provider()
        base = self._event_base(call, started, tier, phase, fallback_from, provider)
        try:
            response = await provider.complete(call)
        except ProviderError as error:
            self._emit(
                replace(
                    base,
                    outcome=Outcome.ERROR,
                    error_type=error.kind,
                    status_code=error.status,
                    request_id=error.request_id,
                    latency_ms=(self.ex.clock.now() - started) * 1000.0,
                )
            )
            raise
        usage = response.usage
        quote = self.ex.registry.quote(
            response.model or model,
            usage,
            day=datetime.fromtimestamp(started, UTC).date(),
            batch=base.batch,
        )
        self._pending = replace(
            base,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_5m_tokens=usage.cache_creation_5m_tokens,
            cache_creation_1h_tokens=usage.cache_creation_1h_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cost_usd=quote.cost.total if quote.cost is not None else None,
            latency_ms=response.latency_s * 1000.0,
            ttft_ms=response.ttft_s * 1000.0 if response.ttft_s is not None else None,
            request_id=response.request_id,
            output_chars=len(response.text),
            output_sha256=sha256(response.text),
            output_text=response.text if self.store_text else None,
        )
        return response

    def _provider(self) -> Provider:
        if self.options.batch and self.ex.batch_provider is not None:
            return self.ex.batch_provider
        return self.ex.provider

    def _event_base(
        self,
        call: ModelCall,
        started: float,
        tier: Tier,
        phase: _Phase,
        fallback_from: str | None,
        provider: Provider,
    ) -> Event:
        prompt = call.prompt_text
        return Event(
            event_id=new_id(),
            ts=started,
            run_id=self.run_id,
            agent=self.decision.agent,
            model=call.model,
            tier=tier.value,
            outcome=Outcome.SUCCESS,
            attempt=len(self.events) + 1,
            task_id=self.request.task_id,
            pipeline=self.request.pipeline,
            step=self.request.step,
            category=self.agent.category if self.agent is not None else None,
            provider=provider.name,
            batch=provider is not self.ex.provider,
            user=self.request.user,
            escalated_from=phase.escalated_from.value if phase.escalated_from else None,
            fallback_from=fallback_from,
            experiment_arm=self.options.experiment_arm,
            stream=call.stream,
            prompt_chars=len(prompt),
            prompt_sha256=sha256(prompt),
            prompt_text=prompt if self.store_text else None,
        )

    def _finish_event(self, verdict: Verdict, confidence: float | None, *, rejected: bool) -> None:
        """Emit the successful call's event, marked rejected when its answer was turned down."""
        assert self._pending is not None
        event = replace(self._pending, confidence=confidence)
        if rejected:
            kind = f"rejected:{verdict.validator}" if verdict.validator else "rejected"
            event = replace(event, outcome=Outcome.REJECTED, error_type=kind)
        self._pending = None
        self._emit(event)

    def _emit(self, event: Event) -> None:
        self.events.append(event)
        if self.ex.sink is not None:
            self.ex.sink(event)
