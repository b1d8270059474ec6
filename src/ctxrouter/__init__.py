"""ctxrouter: give every agent of an agent fleet the right Claude model for the job.

The public API, flat::

    from ctxrouter import Settings, Router, RouteRequest, load_catalog

    settings = Settings.load()
    router = Router.from_settings(settings)
    decision = router.decide(RouteRequest(task="Threat model the payment API"))
    decision.tier, decision.model, decision.reasons
"""

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
from ctxrouter.models.pricing import Cost, Quote, Usage, price_usage
from ctxrouter.models.registry import ModelInfo, ModelRegistry
from ctxrouter.policy import Escalation, ModelPolicy, PolicyKind, Tier
from ctxrouter.policy.detect import Detector, load_detector
from ctxrouter.policy.matrix import Characteristic, DecisionMatrix, Strength, load_decision_matrix
from ctxrouter.routing import Decision, RouteContext, Router, RouteRequest, Stage, TraceStep

__version__ = "0.1.0"

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
