"""The attempt engine on its own: a ``send`` that answers from a script, on a virtual clock."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from ctxrouter import Settings
from ctxrouter.clock import VirtualClock
from ctxrouter.config import RetrySettings
from ctxrouter.errors import (
    BadRequestError,
    BudgetExceeded,
    FallbackExhausted,
    OverloadedError,
    ProviderError,
    RateLimitError,
)
from ctxrouter.execution.attempts import (
    AttemptEngine,
    AttemptHandle,
    AttemptRun,
    Option,
    attempt_options,
)
from ctxrouter.models.pricing import Usage
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.policy.tier import Tier
from ctxrouter.routing import Router
from ctxrouter.telemetry.event import Event, Outcome

HAIKU, SONNET, OPUS = "claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"
OPTIONS = [Option(HAIKU, Tier.HAIKU), Option(SONNET, Tier.SONNET)]


@dataclass
class Script:
    """Answers each try with the next outcome: an error to raise, or usage to answer with."""

    outcomes: list[ProviderError | Usage]
    tries: list[tuple[str, int, bool]] = field(default_factory=list)  # model, number, final

    async def __call__(self, attempt: AttemptHandle) -> str:
        self.tries.append((attempt.model, attempt.number, attempt.final))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, ProviderError):
            raise outcome
        attempt.emit(attempt.answered(outcome))
        return f"answer from {attempt.model}"


@dataclass
class Budget:
    """A guard: refuses once ``limit`` attempts were reserved; records what it was told."""

    limit: int
    reserved: int = 0
    settled: list[float | None] = field(default_factory=list)
    released: int = 0

    def reserve(self, attempt: AttemptHandle) -> None:
        if self.reserved >= self.limit:
            raise BudgetExceeded(f"run budget: {self.limit} attempts spent, 0 left")
        self.reserved += 1

    def settle(self, attempt: AttemptHandle, event: Event) -> None:
        self.settled.append(event.cost_usd)

    def release(self, attempt: AttemptHandle) -> None:
        self.released += 1


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry.load(Settings.load())


def engine(registry: ModelRegistry, **retry: object) -> tuple[AttemptEngine, list[Event]]:
    events: list[Event] = []
    settings = RetrySettings.model_validate({"base_delay_s": 0.5, **retry})
    made = AttemptEngine.from_settings(settings, registry, clock=VirtualClock(), sink=events.append)
    return made, events


def new_run(user: str | None = None) -> AttemptRun:
    return AttemptRun.start(
        "run-1", random.Random(1), agent="python-pro", user=user, experiment_arm="B"
    )


USAGE = Usage(input_tokens=1000, output_tokens=100)


async def test_retries_then_the_fallback_each_try_one_event(registry: ModelRegistry) -> None:
    made, events = engine(registry)
    script = Script([OverloadedError("busy")] * 3 + [USAGE])
    answer, handle = await made.run(new_run(), OPTIONS, script)
    assert answer == f"answer from {SONNET}" and handle.number == 4
    assert [t[0] for t in script.tries] == [HAIKU] * 3 + [SONNET]
    assert [(e.model, e.attempt, e.outcome) for e in events] == [
        (HAIKU, 1, Outcome.ERROR), (HAIKU, 2, Outcome.ERROR), (HAIKU, 3, Outcome.ERROR),
        (SONNET, 4, Outcome.SUCCESS),
    ]  # fmt: skip
    assert events[-1].fallback_from == HAIKU and events[0].fallback_from is None
    assert all(e.error_type == "overloaded" for e in events[:3])
    assert events[-1].cost_usd is not None and events[-1].cost_usd > 0
    assert {e.run_id for e in events} == {"run-1"} and {e.experiment_arm for e in events} == {"B"}


async def test_the_run_wide_budget_caps_the_last_option(registry: ModelRegistry) -> None:
    made, events = engine(registry, run_max_attempts=5)
    script = Script([OverloadedError("busy")] * 10)
    with pytest.raises(FallbackExhausted) as caught:
        await made.run(new_run(), OPTIONS, script)
    assert len(script.tries) == 5 and len(caught.value.attempts) == 5
    assert [t[2] for t in script.tries] == [False] * 4 + [True]  # the 5th is the last try
    assert len(events) == 5


async def test_a_long_retry_after_moves_on_and_a_bad_request_surfaces(
    registry: ModelRegistry,
) -> None:
    made, _ = engine(registry, max_retry_after_s=30)
    script = Script([RateLimitError("later", retry_after=3600), USAGE])
    await made.run(new_run(), OPTIONS, script)
    assert [t[0] for t in script.tries] == [HAIKU, SONNET]
    bad = Script([BadRequestError("messages: bad")])
    with pytest.raises(BadRequestError):
        await made.run(new_run(), OPTIONS, bad)
    assert len(bad.tries) == 1


async def test_the_breaker_rests_a_failing_model(registry: ModelRegistry) -> None:
    made, _ = engine(registry, breaker_window=2, breaker_min_calls=2, breaker_reset_s=60)
    await made.run(new_run(), OPTIONS, Script([OverloadedError("x")] * 2 + [USAGE]))
    rested = Script([USAGE])
    await made.run(new_run(), OPTIONS, rested)
    assert [t[0] for t in rested.tries] == [SONNET]  # haiku's circuit is open


async def test_guards_reserve_settle_and_refuse(registry: ModelRegistry) -> None:
    budget = Budget(limit=2)
    made, events = engine(registry)
    made.guards = (budget,)
    script = Script([OverloadedError("busy"), USAGE])
    await made.run(new_run(user="ana"), OPTIONS, script)
    assert budget.reserved == 2 and budget.settled == [None, events[-1].cost_usd]
    refused = Script([USAGE])
    with pytest.raises(BudgetExceeded, match="2 attempts spent"):
        await made.run(new_run(), OPTIONS, refused)
    assert refused.tries == [] and budget.released == 1  # nothing sent, nothing kept


def test_attempt_options_follow_the_policy(registry: ModelRegistry) -> None:
    router = Router.from_settings(Settings.load(), registry=registry, read_store=False)
    tiers = router.tier_models
    auditor = router.catalog["security-auditor"]  # sonnet, falling back to opus
    assert [o.model for o in attempt_options(auditor, Tier.SONNET, tiers)] == [SONNET, OPUS]
    python = router.catalog["python-pro"]  # haiku, falling back to sonnet
    escalated = attempt_options(python, Tier.SONNET, tiers, escalated_from=Tier.HAIKU)
    assert [o.model for o in escalated] == [SONNET]  # never below the escalated tier
    assert [o.model for o in attempt_options(None, Tier.HAIKU, tiers)] == [HAIKU]


async def test_a_failing_sink_never_breaks_the_answer(
    registry: ModelRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Event) -> None:
        raise OSError("disk full")

    made = AttemptEngine.from_settings(RetrySettings(), registry, clock=VirtualClock(), sink=broken)
    answer, handle = await made.run(new_run(), OPTIONS, Script([USAGE]))
    assert answer == f"answer from {HAIKU}" and handle.emitted
    assert "the telemetry sink failed" in caplog.text
