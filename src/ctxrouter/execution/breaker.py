"""A circuit breaker per model: stop hammering a model that keeps failing.

Closed: calls go through; ``failure_threshold`` consecutive retryable failures open it.
Open: calls are refused for ``reset_after_s``; then half-open: one trial call goes through,
and its result closes the circuit again or re-opens it. Time comes from the caller (a Clock),
so the state machine is pure and testable with virtual time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(slots=True)
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 5, reset_after_s: float = 30.0) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._circuits: dict[str, _Circuit] = {}

    def state(self, model: str, now: float) -> BreakerState:
        c = self._circuits.get(model)
        if c is None or c.opened_at is None:
            return BreakerState.CLOSED
        if now - c.opened_at >= self.reset_after_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self, model: str, now: float) -> bool:
        """May a call to ``model`` go out now? (In half-open state, only one trial at a time.)"""
        state = self.state(model, now)
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN:
            return False
        c = self._circuits[model]
        if c.trial_in_flight:
            return False
        c.trial_in_flight = True
        return True

    def retry_in(self, model: str, now: float) -> float:
        c = self._circuits.get(model)
        if c is None or c.opened_at is None:
            return 0.0
        return max(0.0, self.reset_after_s - (now - c.opened_at))

    def success(self, model: str) -> None:
        self._circuits.pop(model, None)

    def failure(self, model: str, now: float) -> None:
        c = self._circuits.setdefault(model, _Circuit())
        c.trial_in_flight = False
        if c.opened_at is not None:  # a failed half-open trial re-opens for a full period
            c.opened_at = now
            return
        c.failures += 1
        if c.failures >= self.failure_threshold:
            c.opened_at = now
