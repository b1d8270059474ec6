"""The executor: run one routed task end to end, surviving failures and weak answers.

For a decision it tries the routed model, then the agent's fallbacks, through the attempt
engine (:mod:`ctxrouter.execution.attempts`, shared with the gateway): retries with backoff
honouring ``retry-after`` while the model's circuit is closed; a non-retryable failure (400,
401, 403, 413, a 429 without ``retry-after``) surfaces at once; when every option fails,
:class:`~ctxrouter.errors.FallbackExhausted` carries every attempt.

An answer is then judged: validators first, then the model's own confidence (see
:mod:`ctxrouter.execution.confidence`). A rejected answer is re-run on the escalation tier
(the agent's escalation target, else the next stronger tier its policy allows), at most
``max_escalations`` times. Every attempt becomes one telemetry :class:`Event`.
"""

from __future__ import annotations

import random
from dataclasses import replace

from ctxrouter.catalog.agent import Agent
from ctxrouter.config import RuntimeSettings
from ctxrouter.errors import CtxRouterError
from ctxrouter.execution.attempts import (
    AttemptEngine,
    AttemptHandle,
    AttemptRun,
    attempt_options,
)
from ctxrouter.execution.confidence import SELF_ASSESSMENT_INSTRUCTION, split_confidence
from ctxrouter.execution.result import RunOptions, RunResult
from ctxrouter.execution.validators import Verdict
from ctxrouter.policy.tier import Tier
from ctxrouter.providers.base import CallContext, Message, ModelCall, ModelResponse, Provider
from ctxrouter.routing.request import Decision, RouteRequest
from ctxrouter.routing.router import Router
from ctxrouter.telemetry.event import Event, Outcome, new_id, sha256


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


class Executor:
    """Runs routed tasks on a provider. One executor serves many concurrent runs.

    Retries, backoff, the circuit breaker, fallbacks and the Event of each attempt are the
    :class:`~ctxrouter.execution.attempts.AttemptEngine`'s (the gateway uses the same one);
    the executor adds the answer's judgement and escalation."""

    def __init__(
        self,
        router: Router,
        provider: Provider,
        engine: AttemptEngine,
        *,
        runtime: RuntimeSettings | None = None,
        batch_provider: Provider | None = None,
        jitter_seed: int | None = None,
    ) -> None:
        self.router = router
        self.provider = provider
        self.engine = engine  # tries, retries, breaker, Events: shared with the gateway
        self.runtime = runtime or RuntimeSettings()
        self.batch_provider = batch_provider  # the Message Batches path, for batchable work
        # Backoff jitter is drawn per run: from its random id (decorrelated clients), or, for
        # reproducible simulations, from this seed and the request itself.
        self.jitter_seed = jitter_seed

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
            error.run_events = tuple(run.attempts.events)
            raise


class _Run:
    """One run: its attempts (an :class:`AttemptRun`), the system prompt, the verdicts."""

    def __init__(
        self, ex: Executor, request: RouteRequest, decision: Decision, options: RunOptions
    ) -> None:
        self.ex = ex
        self.request = request
        self.decision = decision
        self.options = options
        self.agent = ex.router.catalog[decision.agent] if decision.agent else None
        self.verdicts: list[Verdict] = []
        run_id = options.run_id or new_id()
        if ex.jitter_seed is None:
            rng = random.Random(run_id)
        else:
            r = request
            rng = random.Random(f"{ex.jitter_seed}|{r.task_id}|{r.step}|{r.agent}|{r.task}")
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
                else SELF_ASSESSMENT_INSTRUCTION
            )
        self.system = system or None
        self.provider = (
            ex.batch_provider if options.batch and ex.batch_provider is not None else ex.provider
        )
        prompt = request.prompt or request.task
        self.attempts = AttemptRun.start(
            run_id,
            rng,
            agent=decision.agent,
            task_id=request.task_id,
            pipeline=request.pipeline,
            step=request.step,
            category=self.agent.category if self.agent is not None else None,
            provider=self.provider.name,
            batch=self.provider is not ex.provider,
            user=request.user,
            experiment_arm=options.experiment_arm,
            stream=options.stream,
            prompt_chars=len(prompt),
            prompt_sha256=sha256(prompt),
            prompt_text=prompt if self.store_text else None,
        )

    @property
    def run_id(self) -> str:
        return self.attempts.run_id

    async def execute(self) -> RunResult:
        tier, escalated_from = self.decision.tier, None
        escalations = 0
        while True:
            options = attempt_options(
                self.agent, tier, self.ex.router.tier_models, escalated_from=escalated_from
            )
            (response, pending), handle = await self.ex.engine.run(
                self.attempts, options, self._call, escalated_from=escalated_from
            )
            answered_tier = handle.option.tier or tier
            text, confidence = split_confidence(response.text)
            verdict = await self._judge(text, confidence)
            target = escalation_target(self.agent, answered_tier)
            can_escalate = target is not None and escalations < self.ex.runtime.max_escalations
            event = replace(pending, confidence=confidence)
            if not verdict.ok:
                kind = f"rejected:{verdict.validator}" if verdict.validator else "rejected"
                event = replace(event, outcome=Outcome.REJECTED, error_type=kind)
            handle.emit(event)
            if verdict.ok or not can_escalate:
                return RunResult(
                    run_id=self.run_id,
                    text=text,
                    model=handle.model,
                    tier=answered_tier.value,
                    decision=self.decision,
                    events=tuple(self.attempts.events),
                    accepted=verdict.ok,
                    confidence=confidence,
                    verdicts=tuple(self.verdicts),
                )
            assert target is not None
            escalations += 1
            tier, escalated_from = target, answered_tier

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

    async def _call(self, attempt: AttemptHandle) -> tuple[ModelResponse, Event]:
        """One call to the provider; the answer's Event waits for the verdict."""
        tier = attempt.option.tier
        call = ModelCall(
            model=attempt.model,
            messages=(Message("user", self.request.prompt or self.request.task),),
            system=self.system,
            max_tokens=self.options.max_tokens,
            stream=self.options.stream,
            context=CallContext(
                agent=self.decision.agent,
                category=self.agent.category if self.agent is not None else None,
                tier=tier.value if tier is not None else None,
                run_id=self.run_id,
                attempt=attempt.number,
            ),
        )
        response = await self.provider.complete(call)
        pending = attempt.answered(
            response.usage,
            model=response.model or attempt.model,
            latency_ms=response.latency_s * 1000.0,
            ttft_ms=response.ttft_s * 1000.0 if response.ttft_s is not None else None,
            request_id=response.request_id,
            output_chars=len(response.text),
            output_sha256=sha256(response.text),
            output_text=response.text if self.store_text else None,
        )
        return response, pending
