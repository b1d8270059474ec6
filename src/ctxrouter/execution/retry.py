"""Retry policy as small pure functions: which errors to retry and how long to wait.

Exponential backoff with full jitter, capped, honouring the upstream's ``retry-after`` (never
waiting less than it says). Randomness comes from the caller's ``random.Random`` so runs are
reproducible for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ctxrouter.errors import ProviderError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to try one model, and how to space the tries."""

    max_attempts: int = 3  # per model, first try included
    run_max_attempts: int = 8  # per run: the last option may use what is left of this
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 60.0  # a longer retry-after moves on to the fallback instead

    def should_retry(
        self,
        error: ProviderError,
        attempt: int,
        *,
        last_option: bool = False,
        run_attempts: int = 0,
    ) -> bool:
        """Retry ``error`` on the same model after its ``attempt``-th try (1-based)?

        Each model gets ``max_attempts`` tries while fallbacks remain; the last option has no
        one to hand over to, so it keeps trying until the run has made ``run_max_attempts``.
        """
        if not error.retryable:
            return False
        if error.retry_after is not None and error.retry_after > self.max_retry_after_s:
            return False
        if last_option:
            return run_attempts < self.run_max_attempts
        return attempt < self.max_attempts

    def delay(self, attempt: int, error: ProviderError | None, rng: random.Random) -> float:
        """Seconds to wait before try ``attempt + 1``: full jitter on an exponential cap,
        and never less than the upstream's ``retry-after``."""
        cap = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        wait = rng.uniform(0, cap)
        if error is not None and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return wait
