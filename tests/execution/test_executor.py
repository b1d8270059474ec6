from __future__ import annotations

import sys

import pytest

from ctxrouter import Settings, load_catalog
from ctxrouter.clock import VirtualClock
from ctxrouter.config import RetrySettings
from ctxrouter.errors import (
    BadRequestError,
    FallbackExhausted,
    InternalServerError,
    OverloadedError,
    RateLimitError,
)
from ctxrouter.execution.attempts import AttemptEngine
from ctxrouter.execution.executor import Executor, escalation_target
from ctxrouter.execution.result import RunOptions
from ctxrouter.execution.validators import CallableValidator, CommandValidator, JsonSchemaValidator
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.policy import Tier
from ctxrouter.routing import Router, RouteRequest
from ctxrouter.telemetry.event import Event, Outcome
from ctxrouter.testing.scripted import Reply, ScriptedProvider

HAIKU, SONNET, OPUS = "claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"


@pytest.fixture(scope="module")
def router() -> Router:
    settings = Settings.load()
    return Router.from_settings(settings, load_catalog(settings))


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry.load(Settings.load())


class Harness:
    def __init__(self, router: Router, registry: ModelRegistry, **retry: object) -> None:
        self.events: list[Event] = []
        self.clock = VirtualClock()
        self.provider = ScriptedProvider()
        engine = AttemptEngine.from_settings(
            RetrySettings.model_validate(retry), registry, clock=self.clock, sink=self.events.append
        )
        self.executor = Executor(router, self.provider, engine)


@pytest.fixture
def h(router: Router, registry: ModelRegistry) -> Harness:
    return Harness(router, registry)


CODE = RouteRequest(task="Implement the endpoints in the spec", agent="python-pro")


async def test_success_records_one_priced_event(h: Harness) -> None:
    h.provider.add(Reply("def f(): ...", confidence=0.9))
    result = await h.executor.run(CODE)
    assert (result.model, result.tier, result.accepted) == (HAIKU, "haiku", True)
    assert result.text == "def f(): ..."  # the confidence line is removed
    assert result.confidence == 0.9
    [event] = h.events
    assert event.outcome is Outcome.SUCCESS and event.attempt == 1
    assert event.input_tokens == 100 and event.output_tokens == 20
    assert event.cost_usd == pytest.approx(100 * 0.10 / 1e6 + 20 * 0.50 / 1e6)
    assert event.agent == "python-pro" and event.category == "Code Generation"
    # the agent's own prompt is the system prompt, plus the self-assessment request
    assert "CONFIDENCE" in (h.provider.calls[0].system or "")


async def test_retries_honour_retry_after_then_succeed(h: Harness) -> None:
    h.provider.add(
        RateLimitError("slow down", retry_after=7.0),
        OverloadedError("busy"),
        Reply("done", confidence=0.9),
    )
    start = h.clock.now()
    result = await h.executor.run(CODE)
    assert result.accepted and result.attempts == 3
    assert [e.outcome for e in h.events] == [Outcome.ERROR, Outcome.ERROR, Outcome.SUCCESS]
    assert [e.error_type for e in h.events[:2]] == ["rate_limit", "overloaded"]
    assert [e.status_code for e in h.events[:2]] == [429, 529]
    assert h.clock.now() - start >= 7.0  # waited at least what retry-after said
    assert {e.model for e in h.events} == {HAIKU}


async def test_fallback_after_retries_exhausted(h: Harness) -> None:
    h.provider.add(*(InternalServerError("boom") for _ in range(3)), Reply("ok", confidence=0.9))
    result = await h.executor.run(CODE)
    assert result.model == SONNET  # python-pro falls back to sonnet
    assert [e.model for e in h.events] == [HAIKU, HAIKU, HAIKU, SONNET]
    assert h.events[-1].fallback_from == HAIKU
    assert result.fallbacks == 1


async def test_non_retryable_errors_surface_at_once(h: Harness) -> None:
    h.provider.add(BadRequestError("prompt is too long", status=400))
    with pytest.raises(BadRequestError, match="prompt is too long"):
        await h.executor.run(CODE)
    assert len(h.events) == 1 and h.events[0].status_code == 400
    spend_cap = RateLimitError("spend cap reached")  # a 429 without retry-after
    h.provider.add(spend_cap)
    with pytest.raises(RateLimitError):
        await h.executor.run(CODE)
    assert len(h.events) == 2


async def test_every_option_failing_reports_every_attempt(h: Harness) -> None:
    h.provider.add(*(OverloadedError(f"busy {i}") for i in range(8)))
    with pytest.raises(FallbackExhausted) as info:
        await h.executor.run(CODE)
    attempts = info.value.attempts
    assert len(attempts) == 8 == len(h.events)
    # 3 tries on haiku; the last option (sonnet) uses what is left of the run's 8 tries
    assert [a.model for a in attempts] == [HAIKU] * 3 + [SONNET] * 5
    assert "busy 7" in str(info.value)


async def test_circuit_breaker_stops_hammering(router: Router, registry: ModelRegistry) -> None:
    h = Harness(router, registry, breaker_window=4, breaker_min_calls=2, breaker_reset_s=60)
    h.provider.add(OverloadedError("a"), OverloadedError("b"), Reply("ok", confidence=0.9))
    result = await h.executor.run(CODE)
    # 2 of 2 calls failed: haiku's circuit opens, so the third try goes to the fallback
    assert [e.model for e in h.events] == [HAIKU, HAIKU, SONNET]
    assert result.model == SONNET
    h.provider.add(Reply("ok", confidence=0.9))
    await h.executor.run(CODE)
    assert h.events[-1].model == SONNET  # still open: haiku is skipped, no event for it
    h.clock.advance(61)
    h.provider.add(Reply("ok", confidence=0.9))
    await h.executor.run(CODE)
    assert h.events[-1].model == HAIKU  # half-open trial succeeded: closed again


async def test_low_confidence_escalates(h: Harness) -> None:
    h.provider.add(Reply("weak", confidence=0.4), Reply("strong", confidence=0.92))
    result = await h.executor.run(CODE)
    assert result.text == "strong" and result.model == SONNET and result.accepted
    assert [e.outcome for e in h.events] == [Outcome.REJECTED, Outcome.SUCCESS]
    assert h.events[0].error_type == "rejected:self-assessment"
    assert h.events[0].confidence == 0.4
    assert h.events[1].escalated_from == "haiku"
    assert result.escalations == 1


async def test_failing_validator_escalates(h: Harness) -> None:
    schema = {"type": "object", "required": ["name"]}
    h.provider.add(Reply("not json at all"), Reply('{"name": "x"}'))
    result = await h.executor.run(CODE, RunOptions(validators=(JsonSchemaValidator(schema),)))
    assert result.accepted and result.model == SONNET
    assert h.events[0].error_type == "rejected:json-schema"
    assert result.verdicts[0].reason == "the answer contains no JSON"


async def test_command_validator_passes_or_fails_by_exit_code(h: Harness) -> None:
    check = CommandValidator(
        [sys.executable, "-c", "import sys; sys.exit(0 if 'PASS' in sys.stdin.read() else 3)"]
    )
    h.provider.add(Reply("FAIL"), Reply("PASS"))
    result = await h.executor.run(CODE, RunOptions(validators=(check,)))
    assert result.accepted and result.text == "PASS"
    assert result.verdicts[0].reason.startswith("exit code 3")


async def test_no_stronger_tier_returns_the_answer_unaccepted(h: Harness) -> None:
    h.provider.add(Reply("meh", confidence=0.3))
    request = RouteRequest(
        task="Review this design", agent="code-reviewer"
    )  # sonnet, falls to haiku
    result = await h.executor.run(request)
    assert not result.accepted and result.text == "meh" and len(h.events) == 1


async def test_security_agent_escalates_to_opus(h: Harness) -> None:
    h.provider.add(Reply("unsure", confidence=0.5), Reply("sure", confidence=0.95, only_model=OPUS))
    request = RouteRequest(task="Audit the auth flow", agent="security-auditor")
    v = CallableValidator(lambda answer: answer.strip() == "sure")
    result = await h.executor.run(request, RunOptions(validators=(v,)))
    assert result.model == OPUS and result.accepted


def test_escalation_targets(router: Router) -> None:
    cat = router.catalog
    assert escalation_target(cat["python-pro"], Tier.HAIKU) is Tier.SONNET
    assert escalation_target(cat["code-reviewer"], Tier.SONNET) is None
    assert escalation_target(cat["security-auditor"], Tier.SONNET) is Tier.OPUS
    assert escalation_target(cat["learning-guide"], Tier.HAIKU) is Tier.SONNET
    assert escalation_target(None, Tier.HAIKU) is Tier.SONNET
    assert escalation_target(None, Tier.SONNET) is None


async def test_text_is_not_stored_unless_asked(h: Harness) -> None:
    h.provider.add(Reply("secret answer", confidence=0.9), Reply("again", confidence=0.9))
    await h.executor.run(CODE)
    event = h.events[-1]
    assert event.prompt_text is None and event.output_text is None
    assert event.prompt_chars > 0 and event.prompt_sha256 and event.output_sha256
    await h.executor.run(CODE, RunOptions(store_text=True))
    assert h.events[-1].output_text is not None and "again" in h.events[-1].output_text
