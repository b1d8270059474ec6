"""ctxrouter: give every agent of an agent fleet the right Claude model for the job.

The public API, flat::

    from ctxrouter import Settings, Router, RouteRequest, load_catalog

    settings = Settings.load()
    router = Router.from_settings(settings)
    decision = router.decide(RouteRequest(task="Threat model the payment API"))
    decision.tier, decision.model, decision.reasons

Names are imported on first use (PEP 562), so ``import ctxrouter`` and light entry points
(the Claude Code hook) do not pay for what they do not use. ``__version__`` too: it is the
installed distribution's version (``pyproject.toml`` is the one place it is written), read
from the installed metadata on first use; ``"0+unknown"`` when ctxrouter is not installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str

    from ctxrouter.analytics.projection import CallProfile, Mix, Projection, load_mix, project
    from ctxrouter.catalog import Agent, AgentFormat, Catalog, lint, load_catalog
    from ctxrouter.config import Settings
    from ctxrouter.errors import (
        BudgetExceeded,
        CatalogError,
        ConfigError,
        CtxRouterError,
        InputError,
        PricingError,
        Problem,
        UnknownAgentError,
        UnknownModelError,
    )
    from ctxrouter.models.pricing import Cost, Quote, price_usage
    from ctxrouter.models.registry import ModelInfo, ModelRegistry
    from ctxrouter.models.usage import Usage
    from ctxrouter.policy import Escalation, ModelPolicy, PolicyKind, Tier
    from ctxrouter.policy.detect import Detector, load_detector
    from ctxrouter.policy.matrix import (
        Characteristic,
        DecisionMatrix,
        Strength,
        load_decision_matrix,
    )
    from ctxrouter.routing import Decision, RouteContext, Router, RouteRequest, Stage, TraceStep

_LAZY: dict[str, str] = {
    "Agent": "ctxrouter.catalog",
    "AgentFormat": "ctxrouter.catalog",
    "BudgetExceeded": "ctxrouter.errors",
    "CallProfile": "ctxrouter.analytics.projection",
    "Catalog": "ctxrouter.catalog",
    "CatalogError": "ctxrouter.errors",
    "Characteristic": "ctxrouter.policy.matrix",
    "ConfigError": "ctxrouter.errors",
    "Cost": "ctxrouter.models.pricing",
    "CtxRouterError": "ctxrouter.errors",
    "Decision": "ctxrouter.routing",
    "DecisionMatrix": "ctxrouter.policy.matrix",
    "Detector": "ctxrouter.policy.detect",
    "Escalation": "ctxrouter.policy",
    "InputError": "ctxrouter.errors",
    "Mix": "ctxrouter.analytics.projection",
    "ModelInfo": "ctxrouter.models.registry",
    "ModelPolicy": "ctxrouter.policy",
    "ModelRegistry": "ctxrouter.models.registry",
    "PolicyKind": "ctxrouter.policy",
    "PricingError": "ctxrouter.errors",
    "Problem": "ctxrouter.errors",
    "Projection": "ctxrouter.analytics.projection",
    "Quote": "ctxrouter.models.pricing",
    "RouteContext": "ctxrouter.routing",
    "RouteRequest": "ctxrouter.routing",
    "Router": "ctxrouter.routing",
    "Settings": "ctxrouter.config",
    "Stage": "ctxrouter.routing",
    "Strength": "ctxrouter.policy.matrix",
    "Tier": "ctxrouter.policy",
    "TraceStep": "ctxrouter.routing",
    "UnknownAgentError": "ctxrouter.errors",
    "UnknownModelError": "ctxrouter.errors",
    "Usage": "ctxrouter.models.usage",
    "lint": "ctxrouter.catalog",
    "load_catalog": "ctxrouter.catalog",
    "load_decision_matrix": "ctxrouter.policy.matrix",
    "load_detector": "ctxrouter.policy.detect",
    "load_mix": "ctxrouter.analytics.projection",
    "price_usage": "ctxrouter.models.pricing",
    "project": "ctxrouter.analytics.projection",
}


_UNKNOWN_VERSION = "0+unknown"  # ctxrouter imported from a source tree, not installed


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _installed_version()
    else:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'ctxrouter' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _installed_version() -> str:
    """The version of the installed ``ctxrouter`` distribution (importlib.metadata costs
    more to import than this package: hence on first use only)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ctxrouter")
    except PackageNotFoundError:
        return _UNKNOWN_VERSION


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Agent",
    "AgentFormat",
    "BudgetExceeded",
    "CallProfile",
    "Catalog",
    "CatalogError",
    "Characteristic",
    "ConfigError",
    "Cost",
    "CtxRouterError",
    "Decision",
    "DecisionMatrix",
    "Detector",
    "Escalation",
    "InputError",
    "Mix",
    "ModelInfo",
    "ModelPolicy",
    "ModelRegistry",
    "PolicyKind",
    "PricingError",
    "Problem",
    "Projection",
    "Quote",
    "RouteContext",
    "RouteRequest",
    "Router",
    "Settings",
    "Stage",
    "Strength",
    "Tier",
    "TraceStep",
    "UnknownAgentError",
    "UnknownModelError",
    "Usage",
    "__version__",
    "lint",
    "load_catalog",
    "load_decision_matrix",
    "load_detector",
    "load_mix",
    "price_usage",
    "project",
]
