"""A circuit breaker per model: stop hammering a model that keeps failing.

Closed: calls go through, and the outcomes of the last ``window`` calls are kept. When at
least ``min_calls`` outcomes are known and the share of retryable failures among them reaches
``failure_rate``, the circuit opens. Open: calls are refused for ``reset_after_s``; then
half-open: one trial call goes through, and its result closes the circuit (with a fresh
window) or re-opens it. A failure *rate* over a window, not a count of consecutive failures:
under concurrency, a run of failures is common on a model that is merely busy (25% of calls
failing gives 5 in a row every ~1,000 calls), while a model that is down fails nearly always.

Time comes from the caller (a Clock), so the state machine is pure and testable.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(slots=True)
class _Circuit:
    outcomes: deque[bool] = field(default_factory=deque)  # True: failed
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_rate: float = 0.8,
        window: int = 20,
        min_calls: int = 10,
        reset_after_s: float = 30.0,
    ) -> None:
        if not 0 < failure_rate <= 1 or window < 1 or not 1 <= min_calls <= window:
            raise ValueError("need 0 < failure_rate <= 1 and 1 <= min_calls <= window")
        self.failure_rate = failure_rate
        self.window = window
        self.min_calls = min_calls
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
        c = self._circuits.get(model)
        if c is None:
            return
        if c.opened_at is not None:  # a half-open trial succeeded: close with a fresh window
            del self._circuits[model]
            return
        self._push(c, failed=False)

    def failure(self, model: str, now: float) -> None:
        c = self._circuits.setdefault(model, _Circuit())
        if c.opened_at is not None:  # a failed half-open trial re-opens for a full period
            c.opened_at = now
            c.trial_in_flight = False
            return
        self._push(c, failed=True)
        if len(c.outcomes) >= self.min_calls and c.failures >= self.failure_rate * len(c.outcomes):
            c.opened_at = now

    def _push(self, c: _Circuit, *, failed: bool) -> None:
        c.outcomes.append(failed)
        c.failures += failed
        if len(c.outcomes) > self.window:
            c.failures -= c.outcomes.popleft()
