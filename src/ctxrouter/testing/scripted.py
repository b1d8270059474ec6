"""A scripted provider: answers and failures given in advance, in order.

A real implementation of the :class:`~ctxrouter.providers.base.Provider` protocol for tests
and examples that need exact control (the executor's retries, fallbacks and escalations)::

    provider = ScriptedProvider([
        OverloadedError("busy"),                       # first call fails
        Reply("draft", confidence=0.4),                # then a weak answer
        Reply("final answer", confidence=0.95),        # then a good one
    ])
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from ctxrouter.clock import Clock
from ctxrouter.errors import ProviderError
from ctxrouter.models.pricing import Usage
from ctxrouter.providers.base import ModelCall, ModelResponse


@dataclass(frozen=True)
class Reply:
    text: str = "ok"
    confidence: float | None = None
    usage: Usage = field(default_factory=lambda: Usage(input_tokens=100, output_tokens=20))
    latency_s: float = 0.01
    model: str | None = None  # default: the model asked for
    only_model: str | None = None  # serve this step only to calls for this model


class ScriptedProvider:
    """Serves the script in order; a step with ``only_model`` waits for a call to that model.
    Every call is kept in ``calls``. An exhausted script is an error, not a silent answer."""

    name = "scripted"

    def __init__(
        self, script: Iterable[Reply | ProviderError] = (), *, clock: Clock | None = None
    ) -> None:
        self.script: deque[Reply | ProviderError] = deque(script)
        self.calls: list[ModelCall] = []
        self.clock = clock  # when given, each reply waits its latency on it

    def add(self, *steps: Reply | ProviderError) -> None:
        self.script.extend(steps)

    async def complete(self, call: ModelCall) -> ModelResponse:
        self.calls.append(call)
        step = self._next_for(call.model)
        if isinstance(step, ProviderError):
            raise step
        if self.clock is not None:
            await self.clock.sleep(step.latency_s)
        text = step.text
        if step.confidence is not None:
            text += f"\nCONFIDENCE: {step.confidence}"
        return ModelResponse(
            text=text,
            model=step.model or call.model,
            usage=step.usage,
            latency_s=step.latency_s,
            stop_reason="end_turn",
        )

    def _next_for(self, model: str) -> Reply | ProviderError:
        for index, step in enumerate(self.script):
            only = step.only_model if isinstance(step, Reply) else getattr(step, "model", None)
            if only is None or only == model:
                del self.script[index]
                return step
        raise AssertionError(f"ScriptedProvider: no scripted step left for a call to {model}")

    async def aclose(self) -> None:
        return None
