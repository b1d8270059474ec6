"""Drifts: the changes a real fleet goes through, injected into a simulated month so that
monitoring has something to find. A wrapper around any provider:

- ``cost_spike``: on the given days every answer uses ``factor`` times the tokens (a prompt
  that grew, a loop that re-sends context);
- ``success_drop``: from ``from_day`` on, a share ``rate`` of one agent's answers on the
  given tier are wrong (a model update, a changed codebase) — their self-assessed confidence
  falls below the escalation threshold.

Days count from the simulation's first day (0-based). Deterministic: which answers drop is a
hash of the call.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ctxrouter.clock import Clock
from ctxrouter.providers.base import ModelCall, ModelResponse, Provider

DAY_S = 86_400.0
_CONFIDENCE = re.compile(r"CONFIDENCE: [0-9.]+\s*$")


class Drift(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["cost_spike", "success_drop"]
    days: tuple[int, ...] = ()  # cost_spike
    factor: float = Field(default=3.0, gt=0)  # cost_spike
    agent: str | None = None  # success_drop
    tier: str = "haiku"  # success_drop
    from_day: int = 0  # success_drop
    rate: float = Field(default=0.3, ge=0, le=1)  # success_drop


class DriftingProvider:
    """Wraps ``inner``; changes its answers as the drifts say, on the clock's day."""

    def __init__(self, inner: Provider, clock: Clock, start: float, drifts: tuple[Drift, ...]):
        self.inner = inner
        self.clock = clock
        self.start = start
        self.drifts = drifts
        self.name = inner.name

    async def complete(self, call: ModelCall) -> ModelResponse:
        day = int((self.clock.now() - self.start) // DAY_S)
        response = await self.inner.complete(call)
        for drift in self.drifts:
            if drift.kind == "cost_spike" and day in drift.days:
                u = response.usage
                f = drift.factor
                response = replace(
                    response,
                    usage=u.model_copy(
                        update={
                            "input_tokens": int(u.input_tokens * f),
                            "output_tokens": int(u.output_tokens * f),
                        }
                    ),
                )
            elif (
                drift.kind == "success_drop"
                and day >= drift.from_day
                and call.context.agent == drift.agent
                and call.context.tier == drift.tier
                and _share(call, self.clock.now()) < drift.rate
            ):
                text = _CONFIDENCE.sub("CONFIDENCE: 0.35", response.text)
                response = replace(response, text=text)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _share(call: ModelCall, at: float) -> float:
    """A stable number in [0, 1) for this call (its virtual time, not its random run id)."""
    key = f"{at!r}|{call.context.attempt}|{call.model}|{call.messages[-1].content}"
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
