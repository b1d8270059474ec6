"""The simulated provider: ctxrouter's offline default, so everything runs without an API key.

It answers like a Claude model would, calibrated per agent category and tier from the routing
strategy's measurements (``ctxrouter/data/simulation.yaml``, :func:`load_calibration`): latency,
whether the answer is right, token counts with some prompt-cache reads, and the errors the API
returns (529 ``overloaded_error``, 429 ``rate_limit_error`` with ``retry-after``, 500
``api_error``) at configurable rates.

**Answer format.** The text is one line naming the model and agent, then the model's structured
self-assessment as the last line::

    [simulated claude-haiku-5-5] python-pro: simulated code-generation answer (haiku tier)
    CONFIDENCE: 0.83

``CONFIDENCE: `` is followed by a number from 0 to 1 with two decimals (regex
``^CONFIDENCE: (0\\.\\d\\d|1\\.00)$`` on the last line), the self-assessment line the
executor asks real models for and reads back. "Success" is the quality of the
answer, not an HTTP outcome: a right answer rates itself in ``confidence.success_min..max``
(shipped: 0.75-0.99), a wrong one in ``confidence.failure_min..max`` (shipped: 0.15-0.65, below
the usual 0.7 threshold).

**Determinism.** Each call's randomness is a fresh ``random.Random`` seeded from a hash of
(seed, run id, model, attempt, agent, category, tier, the messages) and how many identical calls
this provider has seen before. Concurrent tasks therefore never change each other's draws: only
calls identical in every one of those fields share a counter, and they are interchangeable.

**Time.** The provider waits its sampled latency with ``await clock.sleep(latency * time_scale)``:
instant with :class:`~ctxrouter.clock.VirtualClock`, real with ``RealClock`` (the
default). ``latency_s`` in the response is the sampled latency; ``ttft_s`` (streaming calls only)
a fraction of it. A call whose latency exceeds its ``timeout_s`` raises ``APITimeoutError`` after
``timeout_s``.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ctxrouter.clock import Clock, RealClock
from ctxrouter.datafile import load_data_file
from ctxrouter.errors import (
    APITimeoutError,
    ConfigError,
    InternalServerError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    did_you_mean,
    http_error,
)
from ctxrouter.models.usage import Usage
from ctxrouter.policy.tier import TIERS, Tier
from ctxrouter.providers.base import ModelCall, ModelResponse

CALIBRATION_FILE = "simulation.yaml"
PROVIDER_NAME = "simulated"
Z95 = 1.6448536269514722  # the standard normal's 95th percentile

Probability = Annotated[float, Field(ge=0, le=1)]
Seconds = Annotated[float, Field(gt=0)]


# --- the calibration file's schema ---


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # (low, high) field pairs of a range: low must not exceed high
    ranges: ClassVar[tuple[tuple[str, str], ...]] = ()

    @model_validator(mode="after")
    def _ranges_ordered(self) -> Self:
        for low, high in self.ranges:
            lo, hi = getattr(self, low), getattr(self, high)
            if lo > hi:
                raise ValueError(f"{low} ({lo}) must not exceed {high} ({hi})")
        return self


class TierLatency(_Frozen):
    haiku: Seconds
    sonnet: Seconds
    opus: Seconds


class TierRate(_Frozen):
    haiku: Probability
    sonnet: Probability
    opus: Probability


class Profile(_Frozen):
    """One measurement profile: how fast, how often right and how wordy each tier is."""

    p95_latency_s: TierLatency
    success_rate: TierRate
    input_tokens_mean: Annotated[float, Field(ge=1)]
    output_tokens_mean: Annotated[float, Field(ge=1)]


class ErrorRates(_Frozen):
    """Per-call probabilities of each injected API error (their sum must not exceed 1)."""

    overloaded: Probability = 0.0  # 529 overloaded_error
    rate_limit: Probability = 0.0  # 429 rate_limit_error, with retry-after
    server_error: Probability = 0.0  # 500 api_error

    @model_validator(mode="after")
    def _at_most_one(self) -> Self:
        if self.overloaded + self.rate_limit + self.server_error > 1:
            raise ValueError("overloaded + rate_limit + server_error must not exceed 1")
        return self


class ErrorModel(_Frozen):
    rates: ErrorRates
    retry_after_min_s: Annotated[int, Field(ge=0)]
    retry_after_max_s: Annotated[int, Field(ge=0)]
    latency_s: Annotated[float, Field(ge=0)]

    ranges = (("retry_after_min_s", "retry_after_max_s"),)


class CacheModel(_Frozen):
    hit_rate: Probability
    read_fraction_min: Probability
    read_fraction_max: Probability

    ranges = (("read_fraction_min", "read_fraction_max"),)


class ConfidenceModel(_Frozen):
    success_min: Probability
    success_max: Probability
    failure_min: Probability
    failure_max: Probability

    ranges = (("success_min", "success_max"), ("failure_min", "failure_max"))

    @model_validator(mode="after")
    def _failures_below_successes(self) -> Self:
        if self.failure_max >= self.success_min:
            raise ValueError("failure_max must be below success_min, or failures look right")
        return self


class Calibration(_Frozen):
    """The schema of ``simulation.yaml``."""

    version: Literal[1]
    latency_sigma: Annotated[float, Field(gt=0)]
    token_sigma: Annotated[float, Field(ge=0)]
    cache: CacheModel
    confidence: ConfidenceModel
    ttft_fraction_min: Probability
    ttft_fraction_max: Probability
    errors: ErrorModel
    profiles: Annotated[dict[str, Profile], Field(min_length=1)]
    categories: dict[str, str]
    default_profile: str

    ranges = (("ttft_fraction_min", "ttft_fraction_max"),)

    @model_validator(mode="after")
    def _profiles_known(self) -> Self:
        wanted = [("default_profile", self.default_profile)]
        wanted += [(f"categories[{c!r}]", p) for c, p in self.categories.items()]
        for where, name in wanted:
            if name not in self.profiles:
                guess = did_you_mean(name, self.profiles)
                hint = f" (did you mean {guess!r}?)" if guess else ""
                raise ValueError(f"{where}: unknown profile {name!r}{hint}")
        return self


def load_calibration(path: Path | str | None = None) -> Calibration:
    """Read and validate a calibration file; ``None`` reads the one shipped with ctxrouter.

    Raises :class:`ConfigError` naming the file, line and field of every problem.
    """
    return load_data_file(path, CALIBRATION_FILE, Calibration)


# --- the sampling math: pure functions ---


@dataclass(frozen=True, slots=True)
class CallParams:
    """The calibration flattened for one (profile, tier): everything :func:`sample_call` needs."""

    profile: str
    tier: Tier
    latency_mu: float
    latency_sigma: float
    success_rate: float
    input_mu: float
    output_mu: float
    token_sigma: float
    cache_hit_rate: float
    cache_read_min: float
    cache_read_max: float
    success_confidence: tuple[float, float]
    failure_confidence: tuple[float, float]
    ttft_fraction: tuple[float, float]
    retry_after_s: tuple[int, int]


ErrorKind = Literal["overloaded", "rate_limit", "server_error"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one simulated call drew, before it is turned into a response or an error."""

    error: ErrorKind | None
    success: bool
    confidence: float  # two decimals
    latency_s: float
    ttft_s: float
    input_tokens: int  # uncached part of the prompt
    cache_read_tokens: int
    output_tokens: int  # before the call's max_tokens cap
    retry_after_s: int
    request_id: str


def lognormal_mu(p95: float, sigma: float) -> float:
    """The ``mu`` of a lognormal with shape ``sigma`` whose 95th percentile is ``p95``."""
    return math.log(p95) - Z95 * sigma


def call_params(calibration: Calibration, profile: str, tier: Tier) -> CallParams:
    """Flatten the calibration of ``profile`` at ``tier``. Pure."""
    prof = calibration.profiles[profile]
    sigma, tsigma = calibration.latency_sigma, calibration.token_sigma
    conf, cache = calibration.confidence, calibration.cache
    return CallParams(
        profile=profile,
        tier=tier,
        latency_mu=lognormal_mu(getattr(prof.p95_latency_s, tier.value), sigma),
        latency_sigma=sigma,
        success_rate=getattr(prof.success_rate, tier.value),
        # a lognormal's mean is exp(mu + sigma^2 / 2)
        input_mu=math.log(prof.input_tokens_mean) - tsigma**2 / 2,
        output_mu=math.log(prof.output_tokens_mean) - tsigma**2 / 2,
        token_sigma=tsigma,
        cache_hit_rate=cache.hit_rate,
        cache_read_min=cache.read_fraction_min,
        cache_read_max=cache.read_fraction_max,
        success_confidence=(conf.success_min, conf.success_max),
        failure_confidence=(conf.failure_min, conf.failure_max),
        ttft_fraction=(calibration.ttft_fraction_min, calibration.ttft_fraction_max),
        retry_after_s=(calibration.errors.retry_after_min_s, calibration.errors.retry_after_max_s),
    )


def sample_call(seed: int, params: CallParams, rates: ErrorRates) -> Outcome:
    """Draw one call's outcome from ``random.Random(seed)``. Pure: same arguments, same outcome.

    Every quantity is drawn, in a fixed order, whether or not the call fails, so changing the
    error rates does not change the answers of the calls that still succeed.
    """
    rng = random.Random(seed)
    draw = rng.random
    u_error = draw()
    success = draw() < params.success_rate
    lo, hi = params.success_confidence if success else params.failure_confidence
    confidence = round(lo + (hi - lo) * draw(), 2)
    latency = math.exp(rng.gauss(params.latency_mu, params.latency_sigma))
    t_lo, t_hi = params.ttft_fraction
    ttft = latency * (t_lo + (t_hi - t_lo) * draw())
    prompt = max(1, round(math.exp(rng.gauss(params.input_mu, params.token_sigma))))
    output = max(1, round(math.exp(rng.gauss(params.output_mu, params.token_sigma))))
    hit = draw() < params.cache_hit_rate
    fraction = params.cache_read_min + (params.cache_read_max - params.cache_read_min) * draw()
    cache_read = round(prompt * fraction) if hit else 0
    retry_after = rng.randint(*params.retry_after_s)
    request_id = f"req_sim_{rng.getrandbits(96):024x}"

    error: ErrorKind | None = None
    if u_error < rates.overloaded:
        error = "overloaded"
    elif u_error < rates.overloaded + rates.rate_limit:
        error = "rate_limit"
    elif u_error < rates.overloaded + rates.rate_limit + rates.server_error:
        error = "server_error"
    return Outcome(
        error=error,
        success=success,
        confidence=confidence,
        latency_s=latency,
        ttft_s=ttft,
        input_tokens=prompt - cache_read,
        cache_read_tokens=cache_read,
        output_tokens=output,
        retry_after_s=retry_after,
        request_id=request_id,
    )


def call_key(seed: int, call: ModelCall) -> int:
    """A 128-bit hash of what a call asks (not its run id, which is random, nor its place in a
    schedule): the same seed and the same calls give the same answers, run after run."""
    ctx = call.context
    parts = [str(seed), call.model, str(ctx.attempt), ctx.agent or ""]
    parts += [ctx.category or "", ctx.tier or "", call.system or ""]
    for message in call.messages:
        parts += [message.role, message.content]
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).digest()
    return int.from_bytes(digest, "big")


def infer_tier(model: str, tier: str | None = None) -> Tier:
    """``tier`` if it names one, else the tier named in the model id; unknown: sonnet."""
    if tier is not None:
        try:
            return Tier(tier.strip().lower())
        except ValueError:
            pass
    lowered = model.lower()
    return next((t for t in TIERS if t.value in lowered), Tier.SONNET)


# --- the provider ---


class SimulatedProvider:
    """A :class:`~ctxrouter.providers.base.Provider` that simulates Claude models offline.

    ``error_rates`` is one :class:`ErrorRates` for every model, or a mapping whose keys are model
    ids, tier names or ``"*"`` (looked up in that order); models it does not cover use the
    calibration's ``errors.rates``. ``time_scale`` multiplies every wait (0: do not wait).
    ``clock`` defaults to ``RealClock``; pass a ``VirtualClock`` for simulations.

    The provider remembers one small counter per distinct call it has seen (about 100 bytes
    each), so that repeating a call draws afresh; build a new provider per simulated run.
    """

    def __init__(
        self,
        seed: int = 0,
        clock: Clock | None = None,
        error_rates: ErrorRates | Mapping[str, ErrorRates] | None = None,
        time_scale: float = 1.0,
        calibration: Calibration | None = None,
    ) -> None:
        if not time_scale >= 0:
            raise ConfigError(f"time_scale must be 0 or more, got {time_scale}")
        self.name = PROVIDER_NAME
        self.seed = seed
        self.clock: Clock = clock if clock is not None else RealClock()
        self.time_scale = time_scale
        self.calibration = calibration if calibration is not None else load_calibration()
        cal = self.calibration
        if isinstance(error_rates, ErrorRates):
            error_rates = {"*": error_rates}
        self._error_rates: Mapping[str, ErrorRates] = dict(error_rates or {})
        self._params = {(p, t): call_params(cal, p, t) for p in cal.profiles for t in TIERS}
        self._profiles = {p.casefold(): p for p in cal.profiles}
        self._profiles.update((c.casefold(), p) for c, p in cal.categories.items())
        self._rates: dict[tuple[str, Tier], ErrorRates] = {}
        self._seen: dict[int, int] = {}  # call key -> identical calls drawn so far

    def profile_for(self, category: str | None) -> str:
        """The measurement profile of an agent category (a profile name is accepted too)."""
        if category is None:
            return self.calibration.default_profile
        found = self._profiles.get(category.strip().casefold())
        return found if found is not None else self.calibration.default_profile

    def rates_for(self, model: str, tier: Tier) -> ErrorRates:
        """The error rates in force for ``model`` at ``tier``."""
        found = self._rates.get((model, tier))
        if found is None:
            keys = (model, tier.value, "*")
            given = (self._error_rates[k] for k in keys if k in self._error_rates)
            found = next(given, self.calibration.errors.rates)
            self._rates[(model, tier)] = found
        return found

    def draw(self, call: ModelCall) -> tuple[CallParams, Outcome]:
        """Draw ``call``'s outcome without waiting (counts as a call for determinism)."""
        ctx = call.context
        tier = infer_tier(call.model, ctx.tier)
        params = self._params[(self.profile_for(ctx.category), tier)]
        key = call_key(self.seed, call)
        seen = self._seen.get(key, 0)
        self._seen[key] = seen + 1
        return params, sample_call((key << 32) | seen, params, self.rates_for(call.model, tier))

    async def complete(self, call: ModelCall) -> ModelResponse:
        params, outcome = self.draw(call)
        if outcome.error is not None:
            await self.clock.sleep(self.calibration.errors.latency_s * self.time_scale)
            raise _api_error(outcome.error, outcome, call.model)
        timeout = call.timeout_s
        if timeout is not None and outcome.latency_s > timeout:
            await self.clock.sleep(timeout * self.time_scale)
            raise APITimeoutError(
                f"{call.model} gave no answer within the {timeout:g}s timeout (simulated); "
                "raise timeout_s or retry",
                model=call.model,
                provider=PROVIDER_NAME,
            )
        await self.clock.sleep(outcome.latency_s * self.time_scale)
        output = min(outcome.output_tokens, call.max_tokens)
        agent = call.context.agent or "assistant"
        text = (
            f"[simulated {call.model}] {agent}: simulated {params.profile} answer "
            f"({params.tier.value} tier)\nCONFIDENCE: {outcome.confidence:.2f}"
        )
        return ModelResponse(
            text=text,
            model=call.model,
            usage=Usage(
                input_tokens=outcome.input_tokens,
                output_tokens=output,
                cache_read_tokens=outcome.cache_read_tokens,
            ),
            latency_s=outcome.latency_s,
            stop_reason="max_tokens" if output < outcome.output_tokens else "end_turn",
            ttft_s=outcome.ttft_s if call.stream else None,
            request_id=outcome.request_id,
        )

    async def aclose(self) -> None:
        return None


_API_ERRORS: dict[ErrorKind, tuple[type[ProviderError], str, str]] = {
    "overloaded": (OverloadedError, "overloaded_error", "Overloaded"),
    "rate_limit": (
        RateLimitError,
        "rate_limit_error",
        "Number of request tokens has exceeded your per-minute rate limit",
    ),
    "server_error": (InternalServerError, "api_error", "Internal server error"),
}


def _api_error(kind: ErrorKind, outcome: Outcome, model: str) -> ProviderError:
    """The error the real API returns for ``kind``, body and headers included."""
    cls, error_type, api_message = _API_ERRORS[kind]
    body = {"type": "error", "error": {"type": error_type, "message": api_message}}
    headers = {"request-id": outcome.request_id}
    if cls is RateLimitError:
        headers["retry-after"] = str(outcome.retry_after_s)
    assert cls.status is not None
    message = f"{model}: {cls.status} {error_type}: {api_message} (simulated)"
    return http_error(
        cls.status, message, headers=headers, body=body, model=model, provider=PROVIDER_NAME,
        error_type=error_type,
    )  # fmt: skip


__all__ = [
    "CALIBRATION_FILE",
    "Calibration",
    "CallParams",
    "ErrorRates",
    "Outcome",
    "Profile",
    "SimulatedProvider",
    "call_key",
    "call_params",
    "infer_tier",
    "load_calibration",
    "lognormal_mu",
    "sample_call",
]
