from __future__ import annotations

import pytest

from ctxrouter.execution.breaker import BreakerState, CircuitBreaker

M = "claude-haiku-5-5"


def test_opens_on_failure_rate_once_min_calls_are_known() -> None:
    b = CircuitBreaker(failure_rate=0.8, window=10, min_calls=5, reset_after_s=30)
    for _ in range(4):
        b.failure(M, 0)
    assert b.state(M, 0) is BreakerState.CLOSED  # 4 outcomes < min_calls
    b.success(M)
    assert b.state(M, 0) is BreakerState.CLOSED  # a success never opens it
    b.failure(M, 0)  # 5 failures in 6 calls: 83% >= 80%
    assert b.state(M, 0) is BreakerState.OPEN
    assert b.allow(M, 1) is False


def test_busy_model_stays_closed_down_model_opens() -> None:
    b = CircuitBreaker(failure_rate=0.8, window=20, min_calls=10, reset_after_s=30)
    for i in range(200):  # one in four fails: busy, not down
        if i % 4 == 0:
            b.failure(M, i)
        else:
            b.success(M)
    assert b.state(M, 200) is BreakerState.CLOSED
    for _ in range(16):
        b.failure(M, 300)
    assert b.state(M, 300) is BreakerState.OPEN
    assert b.allow(M, 310) is False
    assert b.retry_in(M, 310) == pytest.approx(20)


def test_half_open_trial_closes_or_reopens() -> None:
    b = CircuitBreaker(failure_rate=1.0, window=2, min_calls=2, reset_after_s=10)
    b.failure(M, 0)
    b.failure(M, 0)
    assert b.state(M, 5) is BreakerState.OPEN
    assert b.allow(M, 10) is True  # the one trial
    assert b.allow(M, 10) is False  # only one at a time
    b.failure(M, 10)
    assert b.state(M, 15) is BreakerState.OPEN  # re-opened for a full period from 10
    assert b.allow(M, 20) is True
    b.success(M)
    assert b.state(M, 20) is BreakerState.CLOSED
    b.failure(M, 21)
    assert b.state(M, 21) is BreakerState.CLOSED  # a fresh window


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_rate=0)
    with pytest.raises(ValueError):
        CircuitBreaker(window=5, min_calls=6)
