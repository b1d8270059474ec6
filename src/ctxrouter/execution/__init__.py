"""Execution: run routed tasks with retries, circuit breaking, fallbacks and escalation."""

from ctxrouter.clock import Clock, RealClock, VirtualClock
from ctxrouter.execution.breaker import BreakerState, CircuitBreaker
from ctxrouter.execution.confidence import split_confidence
from ctxrouter.execution.executor import Executor, escalation_target
from ctxrouter.execution.result import RunOptions, RunResult
from ctxrouter.execution.retry import RetryPolicy
from ctxrouter.execution.validators import (
    CallableValidator,
    CommandValidator,
    JsonSchemaValidator,
    Validator,
    Verdict,
)

__all__ = [
    "BreakerState",
    "CallableValidator",
    "CircuitBreaker",
    "Clock",
    "CommandValidator",
    "Executor",
    "JsonSchemaValidator",
    "RealClock",
    "RetryPolicy",
    "RunOptions",
    "RunResult",
    "Validator",
    "Verdict",
    "VirtualClock",
    "escalation_target",
    "split_confidence",
]
