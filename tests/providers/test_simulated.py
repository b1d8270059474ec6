"""The simulated provider: deterministic, calibrated, failing like the real API, virtual time."""

from __future__ import annotations

import asyncio
import re
import statistics
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

import pytest

from ctxrouter.catalog import builtin_dir, load_folder
from ctxrouter.clock import RealClock, VirtualClock
from ctxrouter.errors import (
    APITimeoutError,
    ConfigError,
    InternalServerError,
    OverloadedError,
    ProviderError,
    RateLimitError,
)
from ctxrouter.execution.confidence import split_confidence
from ctxrouter.policy.tier import TIERS, Tier
from ctxrouter.providers.base import CallContext, Message, ModelCall, ModelResponse, Provider
from ctxrouter.providers.simulated import (
    Calibration,
    ErrorRates,
    SimulatedProvider,
    call_params,
    infer_tier,
    load_calibration,
    sample_call,
)

NO_ERRORS = ErrorRates()
DRAWS = 20_000
CONFIDENCE_LINE = re.compile(r"^CONFIDENCE: (0\.\d\d|1\.00)$")
MODELS = {
    Tier.HAIKU: "claude-haiku-5-5",
    Tier.SONNET: "claude-sonnet-5-5",
    Tier.OPUS: "claude-opus-5-5",
}


@pytest.fixture(scope="module")
def calibration() -> Calibration:
    return load_calibration()


def make_call(
    i: int = 0,
    *,
    model: str = "claude-haiku-5-5",
    category: str | None = "Code Generation",
    tier: str | None = None,
    run_id: str | None = "run",
    stream: bool = False,
    max_tokens: int = 4096,
    timeout_s: float | None = None,
) -> ModelCall:
    return ModelCall(
        model=model,
        messages=(Message("user", f"task {i}"),),
        system="You are python-pro.",
        max_tokens=max_tokens,
        stream=stream,
        timeout_s=timeout_s,
        context=CallContext(agent="python-pro", category=category, tier=tier, run_id=run_id),
    )


def provider(
    seed: int = 0, error_rates: ErrorRates | Mapping[str, ErrorRates] = NO_ERRORS
) -> SimulatedProvider:
    return SimulatedProvider(seed=seed, clock=VirtualClock(), error_rates=error_rates)


async def outcome(p: SimulatedProvider, call: ModelCall) -> tuple[object, ...]:
    """A comparable summary of one call: the response, or the error's class and request id."""
    try:
        r = await p.complete(call)
    except ProviderError as exc:
        return (type(exc).__name__, exc.request_id, exc.retry_after)
    return (r.text, r.usage, r.latency_s, r.ttft_s, r.stop_reason, r.request_id)


# --- calibration file ---


def test_shipped_calibration_holds_the_measurements(calibration: Calibration) -> None:
    code = calibration.profiles["code-generation"]
    assert (code.p95_latency_s.haiku, code.p95_latency_s.sonnet) == (1.2, 4.8)
    assert (code.success_rate.haiku, code.success_rate.sonnet) == (0.94, 0.96)
    arch = calibration.profiles["architecture"]
    assert (arch.success_rate.haiku, arch.success_rate.sonnet) == (0.78, 0.94)
    for profile in calibration.profiles.values():  # opus: a step above sonnet
        assert profile.success_rate.opus > profile.success_rate.sonnet
        assert profile.p95_latency_s.opus > profile.p95_latency_s.sonnet


def test_every_builtin_category_has_a_profile(calibration: Calibration) -> None:
    agents, _ = load_folder(builtin_dir(), builtin=True)
    categories = {a.category for a in agents}
    assert categories
    known = {c.casefold() for c in calibration.categories}
    assert {c for c in categories if c.casefold() not in known} == set()


def test_bad_calibration_names_file_and_field(tmp_path: Path) -> None:
    shipped = (files("ctxrouter") / "data" / "simulation.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "sim.yaml"
    bad.write_text(shipped.replace("haiku: 0.94     # MEASURED", "haiku: 1.5"))
    with pytest.raises(ConfigError) as err:
        load_calibration(bad)
    assert str(bad) in str(err.value)
    assert "profiles.code-generation.success_rate.haiku" in str(err.value)

    bad.write_text(shipped.replace("Testing: test-generation", "Testing: test-generatoin"))
    with pytest.raises(ConfigError, match=r"unknown profile 'test-generatoin'.*test-generation"):
        load_calibration(bad)

    bad.write_text("profiles: [")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_calibration(bad)


# --- the sampling math ---


@pytest.mark.parametrize("tier", TIERS, ids=str)
@pytest.mark.parametrize(
    "profile",
    [
        "code-generation",
        "test-generation",
        "documentation",
        "iac-generation",
        "architecture",
        "security-audit",
        "default",
    ],
)
def test_draws_match_the_calibration(calibration: Calibration, profile: str, tier: Tier) -> None:
    params = call_params(calibration, profile, tier)
    draws = [sample_call(seed, params, NO_ERRORS) for seed in range(DRAWS)]
    target = calibration.profiles[profile]

    p95 = statistics.quantiles([d.latency_s for d in draws], n=20)[-1]
    assert p95 == pytest.approx(getattr(target.p95_latency_s, tier.value), rel=0.03)
    success = sum(d.success for d in draws) / DRAWS
    assert success == pytest.approx(getattr(target.success_rate, tier.value), abs=0.01)
    prompt = statistics.fmean(d.input_tokens + d.cache_read_tokens for d in draws)
    assert prompt == pytest.approx(target.input_tokens_mean, rel=0.03)
    output = statistics.fmean(d.output_tokens for d in draws)
    assert output == pytest.approx(target.output_tokens_mean, rel=0.03)
    cached = sum(d.cache_read_tokens > 0 for d in draws) / DRAWS
    assert cached == pytest.approx(calibration.cache.hit_rate, abs=0.02)


def test_confidence_separates_right_from_wrong_answers(calibration: Calibration) -> None:
    params = call_params(calibration, "architecture", Tier.HAIKU)
    draws = [sample_call(seed, params, NO_ERRORS) for seed in range(2_000)]
    assert min(d.confidence for d in draws if d.success) >= 0.75
    assert max(d.confidence for d in draws if not d.success) < 0.7


def test_sample_call_is_pure(calibration: Calibration) -> None:
    params = call_params(calibration, "default", Tier.SONNET)
    assert sample_call(42, params, NO_ERRORS) == sample_call(42, params, NO_ERRORS)
    assert sample_call(42, params, NO_ERRORS) != sample_call(43, params, NO_ERRORS)


def test_tier_comes_from_the_context_then_the_model_id() -> None:
    assert infer_tier("claude-sonnet-5-5", "haiku") is Tier.HAIKU
    assert infer_tier("claude-opus-5-5") is Tier.OPUS
    assert infer_tier("claude-haiku-5-5-20261001", "fast") is Tier.HAIKU
    assert infer_tier("some-other-model") is Tier.SONNET


# --- the provider ---


def test_it_is_a_provider() -> None:
    assert isinstance(provider(), Provider)


async def test_answer_format_and_confidence_line_parse() -> None:
    response = await provider().complete(make_call())
    assert isinstance(response, ModelResponse)
    first, last = response.text.split("\n")
    assert first == (
        "[simulated claude-haiku-5-5] python-pro: simulated code-generation answer (haiku tier)"
    )
    assert CONFIDENCE_LINE.match(last)
    answer, confidence = split_confidence(response.text)
    assert answer == first
    assert confidence == float(last.removeprefix("CONFIDENCE: "))
    assert response.model == "claude-haiku-5-5"
    assert response.request_id is not None and response.request_id.startswith("req_")


async def test_profile_and_tier_follow_the_context() -> None:
    p = provider()
    text = (await p.complete(make_call(model="claude-opus-5-5", category="testing"))).text
    assert "test-generation answer (opus tier)" in text
    text = (await p.complete(make_call(model="mystery-model", category=None))).text
    assert "default answer (sonnet tier)" in text
    text = (await p.complete(make_call(category="Business & Product", tier="haiku"))).text
    assert "default answer (haiku tier)" in text


async def test_same_seed_same_calls_same_results() -> None:
    calls = [make_call(i, run_id=f"run-{i % 7}") for i in range(300)]
    rates = ErrorRates(overloaded=0.05, rate_limit=0.05, server_error=0.05)
    first, second = provider(3, error_rates=rates), provider(3, error_rates=rates)
    assert [await outcome(first, c) for c in calls] == [await outcome(second, c) for c in calls]


async def test_results_do_not_depend_on_scheduling_order() -> None:
    # distinct calls: each gets its own answer whatever the order (run ids do not matter)
    calls = [make_call(i, run_id=f"run-{i}") for i in range(200)]
    rates = ErrorRates(overloaded=0.05, rate_limit=0.05, server_error=0.05)
    first = provider(5, error_rates=rates)
    sequential = [await outcome(first, c) for c in calls]

    p = provider(5, error_rates=rates)
    backwards = await asyncio.gather(*(outcome(p, c) for c in reversed(calls)))
    assert list(reversed(backwards)) == sequential


async def test_identical_calls_get_fresh_draws_but_the_same_multiset() -> None:
    calls = [make_call(run_id=None) for _ in range(40)]
    p = provider(9)
    in_order = [await outcome(p, c) for c in calls]
    assert len(set(in_order)) > 1  # repeating a call is not replaying its answer

    q = provider(9)
    together = await asyncio.gather(*(outcome(q, c) for c in calls))
    assert sorted(map(repr, together)) == sorted(map(repr, in_order))


async def test_different_seeds_differ() -> None:
    calls = [make_call(i) for i in range(20)]
    a = [await outcome(provider(1), c) for c in calls]
    b = [await outcome(provider(2), c) for c in calls]
    assert a != b
    assert sum(x != y for x, y in zip(a, b, strict=True)) == len(calls)


async def test_error_rates_are_honoured() -> None:
    rates = ErrorRates(overloaded=0.05, rate_limit=0.03, server_error=0.02)
    p = provider(11, error_rates=rates)
    counts = {"ok": 0, OverloadedError: 0, RateLimitError: 0, InternalServerError: 0}
    n = 20_000
    for i in range(n):
        try:
            await p.complete(make_call(i))
            counts["ok"] += 1
        except ProviderError as exc:
            counts[type(exc)] += 1
    assert counts[OverloadedError] / n == pytest.approx(0.05, abs=0.006)
    assert counts[RateLimitError] / n == pytest.approx(0.03, abs=0.005)
    assert counts[InternalServerError] / n == pytest.approx(0.02, abs=0.004)


async def test_default_error_rates_are_small_but_present() -> None:
    p = SimulatedProvider(seed=0, clock=VirtualClock())
    failures = 0
    for i in range(20_000):
        try:
            await p.complete(make_call(i))
        except ProviderError:
            failures += 1
    assert 0.004 < failures / 20_000 < 0.012  # shipped: 0.5% + 0.2% + 0.1%


@pytest.mark.parametrize(
    ("rates", "cls", "status", "error_type"),
    [
        (ErrorRates(overloaded=1), OverloadedError, 529, "overloaded_error"),
        (ErrorRates(rate_limit=1), RateLimitError, 429, "rate_limit_error"),
        (ErrorRates(server_error=1), InternalServerError, 500, "api_error"),
    ],
)
async def test_errors_look_like_the_real_api(
    rates: ErrorRates, cls: type[ProviderError], status: int, error_type: str
) -> None:
    clock = VirtualClock()
    p = SimulatedProvider(seed=0, clock=clock, error_rates=rates)
    start = clock.now()
    with pytest.raises(cls) as err:
        await p.complete(make_call())
    exc = err.value
    assert (exc.status, exc.error_type, exc.provider, exc.model) == (
        status,
        error_type,
        "simulated",
        "claude-haiku-5-5",
    )
    assert exc.request_id is not None and exc.request_id.startswith("req_")
    assert isinstance(exc.body, dict)
    assert exc.body["type"] == "error"
    assert exc.body["error"]["type"] == error_type
    assert exc.retryable
    if cls is RateLimitError:
        assert exc.retry_after is not None and 1 <= exc.retry_after <= 20
        assert exc.headers["retry-after"] == str(int(exc.retry_after))
    else:
        assert exc.retry_after is None
    assert clock.now() - start == pytest.approx(p.calibration.errors.latency_s, abs=1e-6)


async def test_error_rates_per_model_and_tier() -> None:
    p = provider(
        error_rates={
            "claude-opus-5-5": ErrorRates(overloaded=1),
            "haiku": ErrorRates(server_error=1),
            "*": NO_ERRORS,
        }
    )
    with pytest.raises(OverloadedError):
        await p.complete(make_call(model="claude-opus-5-5"))
    with pytest.raises(InternalServerError):
        await p.complete(make_call(model="claude-haiku-5-5"))
    await p.complete(make_call(model="claude-sonnet-5-5"))


async def test_virtual_clock_advances_by_the_latency() -> None:
    clock = VirtualClock()
    p = SimulatedProvider(seed=0, clock=clock, error_rates=NO_ERRORS)
    for i in range(10):
        before = clock.now()
        response = await p.complete(make_call(i))
        assert clock.now() - before == pytest.approx(response.latency_s, abs=1e-6)
        assert response.latency_s > 0


async def test_time_scale_shrinks_the_wait_not_the_reported_latency() -> None:
    clock = VirtualClock()
    p = SimulatedProvider(seed=0, clock=clock, error_rates=NO_ERRORS, time_scale=0.001)
    before = clock.now()
    response = await p.complete(make_call())
    assert clock.now() - before == pytest.approx(response.latency_s * 0.001, abs=1e-6)
    same = await provider(0).complete(make_call())
    assert response.latency_s == same.latency_s


async def test_real_clock_with_no_wait() -> None:
    p = SimulatedProvider(seed=0, clock=RealClock(), error_rates=NO_ERRORS, time_scale=0)
    response = await p.complete(make_call())
    assert response.latency_s > 0
    await p.aclose()


def test_negative_time_scale_is_refused() -> None:
    with pytest.raises(ConfigError, match="time_scale"):
        SimulatedProvider(time_scale=-1)


async def test_streaming_calls_report_a_time_to_first_token() -> None:
    p = provider()
    streamed = await p.complete(make_call(stream=True))
    assert streamed.ttft_s is not None
    assert 0.1 * streamed.latency_s <= streamed.ttft_s <= 0.3 * streamed.latency_s
    assert (await p.complete(make_call(1))).ttft_s is None


async def test_max_tokens_caps_the_output() -> None:
    response = await provider().complete(make_call(max_tokens=5))
    assert response.usage.output_tokens == 5
    assert response.stop_reason == "max_tokens"


async def test_a_latency_beyond_the_timeout_times_out() -> None:
    clock = VirtualClock()
    p = SimulatedProvider(seed=0, clock=clock, error_rates=NO_ERRORS)
    before = clock.now()
    with pytest.raises(APITimeoutError) as err:
        await p.complete(make_call(timeout_s=0.001))
    assert err.value.retryable
    assert clock.now() - before == pytest.approx(0.001, abs=1e-6)
