"""Factories of the built-in providers, registered as entry points in pyproject.toml."""

from __future__ import annotations

from ctxrouter.clock import Clock
from ctxrouter.config import Settings
from ctxrouter.providers.base import Provider


def simulated(settings: Settings, clock: Clock) -> Provider:
    from ctxrouter.clock import VirtualClock
    from ctxrouter.providers.simulated import SimulatedProvider

    # On virtual time a wait costs nothing, so the simulated latency is waited in full; on
    # real time, only the configured share of it (0 by default: answers come at once).
    virtual = isinstance(clock, VirtualClock)
    return SimulatedProvider(
        seed=settings.providers.simulated_seed,
        clock=clock,
        time_scale=1.0 if virtual else settings.providers.simulated_time_scale,
    )


def anthropic(settings: Settings, clock: Clock) -> Provider:
    from ctxrouter.providers.anthropic import AnthropicProvider

    key = settings.providers.anthropic_api_key
    return AnthropicProvider(
        api_key=key.get_secret_value() if key is not None else None,
        base_url=settings.providers.anthropic_base_url,
        timeout=settings.providers.timeout_s,
    )
