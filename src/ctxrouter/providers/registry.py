"""Providers by name. Built-ins and plugins register the same way: an entry point in the
``ctxrouter.providers`` group naming a factory ``create(settings, clock) -> Provider``.

A plugin package adds, in its ``pyproject.toml``::

    [project.entry-points."ctxrouter.providers"]
    bedrock = "my_package.bedrock:create"
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from ctxrouter.clock import Clock
from ctxrouter.config import Settings
from ctxrouter.errors import ConfigError, did_you_mean
from ctxrouter.providers.base import Provider

ENTRY_POINT_GROUP = "ctxrouter.providers"
ProviderFactory = Callable[[Settings, Clock], Provider]


def available() -> dict[str, str]:
    """Provider names and where their factory lives (``module:function``)."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_factory(name: str) -> ProviderFactory:
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name not in found:
        guess = did_you_mean(name, found)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        known = ", ".join(sorted(found)) or "none: is ctxrouter installed (pip install -e .)?"
        raise ConfigError(f"unknown provider {name!r}{hint}; available: {known}")
    factory = found[name].load()
    if not callable(factory):
        raise ConfigError(f"provider {name!r}: {found[name].value} is not callable")
    return factory  # type: ignore[no-any-return]


def create_provider(name: str, settings: Settings, clock: Clock) -> Provider:
    """Build the provider called ``name`` from the settings."""
    return load_factory(name)(settings, clock)
