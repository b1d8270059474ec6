"""The provider contract: one async method that turns a :class:`ModelCall` into a
:class:`ModelResponse` or raises a :class:`~ctxrouter.errors.ProviderError` subclass.

Providers are registered by name (:mod:`ctxrouter.providers.registry`); the built-ins use the
same registry as plugins (the ``ctxrouter.providers`` entry-point group).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from ctxrouter.models.usage import Usage


@dataclass(frozen=True, slots=True)
class Message:
    role: str  # "user" | "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class CallContext:
    """Who is calling, for providers that care (the simulated one calibrates on it)."""

    agent: str | None = None
    category: str | None = None
    tier: str | None = None
    run_id: str | None = None
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class ModelCall:
    """One request to one model."""

    model: str
    messages: tuple[Message, ...]
    system: str | None = None
    max_tokens: int = 4096
    stream: bool = False
    temperature: float | None = None
    timeout_s: float | None = None
    context: CallContext = field(default_factory=CallContext)
    extra: dict[str, Any] = field(default_factory=dict)  # passed through to the API body

    @property
    def prompt_text(self) -> str:
        parts = [self.system or ""]
        parts.extend(m.content for m in self.messages)
        return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """What a model answered, and what it cost in tokens and time."""

    text: str
    model: str  # as the provider reported it
    usage: Usage
    latency_s: float
    stop_reason: str | None = None
    ttft_s: float | None = None  # time to first token (streaming only)
    request_id: str | None = None


@runtime_checkable
class Provider(Protocol):
    """A model provider. Implementations raise ProviderError subclasses on failure."""

    name: str

    async def complete(self, call: ModelCall) -> ModelResponse: ...

    async def aclose(self) -> None: ...


class ClosesOnExit(abc.ABC):
    """``async with`` for what has an ``aclose`` (a provider, the runtime): the block gives
    the object and closes it on exit."""

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
