"""Routing: decide the tier and model for one agent call, with a trace of why."""

from ctxrouter.routing.request import Decision, RouteRequest, TraceStep
from ctxrouter.routing.router import Router
from ctxrouter.routing.stages import (
    ConditionStage,
    DefaultStage,
    QualityStage,
    RouteContext,
    Stage,
    default_stages,
)

__all__ = [
    "ConditionStage",
    "Decision",
    "DefaultStage",
    "QualityStage",
    "RouteContext",
    "RouteRequest",
    "Router",
    "Stage",
    "TraceStep",
    "default_stages",
]
