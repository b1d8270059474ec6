"""Faults: what the fake answers instead of (or on the way to) a normal answer, and the plan
that picks one for each message request.

:class:`FaultPlan` tries, first match wins: the first scripted :class:`Fault` whose ``model``
is unset or the request's; the ``responder``; a magic model name (``fake-529``, ``fake-reset``,
...); a random fault drawn with the ``rates``. ``None``: a normal answer.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from ctxrouter.testing.fake_anthropic.wire import ERROR_TYPES

FaultKind = Literal["status", "slow_first_byte", "reset", "stream_error", "ok", "expired"]
Responder = Callable[[Mapping[str, Any]], "Fault | None"]
_STATUS_FOR_ERROR_TYPE: Mapping[str, int] = MappingProxyType(
    {"overloaded_error": 529, "rate_limit_error": 429, "api_error": 500, "timeout_error": 504}
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted answer or failure. Build them with the class methods."""

    kind: FaultKind
    status_code: int = 200
    error_type: str | None = None
    message: str | None = None
    retry_after: float | str | None = None  # seconds, or an HTTP date
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0  # before the first byte
    mid_body: bool = False  # reset: after part of the body has been sent
    after_deltas: int = 2  # stream_error and mid-body reset: text deltas sent first
    text: str | None = None
    content: tuple[Mapping[str, Any], ...] | None = None
    usage: Mapping[str, Any] | None = None
    stop_reason: str | None = None
    model: str | None = None  # only requests for this model consume it

    @classmethod
    def status(
        cls,
        status_code: int,
        *,
        retry_after: float | str | None = None,
        error_type: str | None = None,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        model: str | None = None,
    ) -> Fault:
        """An error answer in the Anthropic format (``retry_after`` sets ``retry-after``)."""
        default_type, default_message = ERROR_TYPES.get(status_code, ("api_error", "Error"))
        return cls(
            kind="status",
            status_code=status_code,
            error_type=error_type or default_type,
            message=message or default_message,
            retry_after=retry_after,
            headers=tuple((headers or {}).items()),
            model=model,
        )

    @classmethod
    def slow_first_byte(cls, seconds: float, *, model: str | None = None) -> Fault:
        """A normal answer whose first byte is held back ``seconds``."""
        return cls(kind="slow_first_byte", delay_s=seconds, model=model)

    @classmethod
    def reset(cls, *, mid_body: bool = False, model: str | None = None) -> Fault:
        """Reset the connection (TCP RST) before any byte, or after part of the body."""
        return cls(kind="reset", mid_body=mid_body, model=model)

    @classmethod
    def stream_error(
        cls,
        error_type: str = "overloaded_error",
        *,
        message: str | None = None,
        after_deltas: int = 2,
        model: str | None = None,
    ) -> Fault:
        """An ``event: error`` after ``after_deltas`` content deltas (before ``message_delta``
        when the answer has fewer; ``after_deltas=-1``: as the stream's first event, before
        ``message_start``, as an overloaded API opens a stream). A non-streaming request gets
        the matching status instead (``overloaded_error`` → 529, ``api_error`` → 500,
        ``rate_limit_error`` → 429, else 400)."""
        status = _STATUS_FOR_ERROR_TYPE.get(error_type, 400)
        default_message = ERROR_TYPES.get(status, ("", "Error"))[1]
        return cls(
            kind="stream_error",
            status_code=status,
            error_type=error_type,
            message=message or default_message,
            after_deltas=after_deltas,
            model=model,
        )

    @classmethod
    def expired(cls, *, model: str | None = None) -> Fault:
        """In a Message Batch: the request's result is ``expired`` (the batch ran out of its
        24 hours first). A plain message request gets a 504 ``timeout_error`` instead."""
        default_type, default_message = ERROR_TYPES[504]
        return cls(
            kind="expired",
            status_code=504,
            error_type=default_type,
            message=default_message,
            model=model,
        )

    @classmethod
    def ok(
        cls,
        text: str | None = None,
        *,
        usage: Mapping[str, Any] | None = None,
        content: Sequence[Mapping[str, Any]] | None = None,
        stop_reason: str | None = None,
        delay_s: float = 0.0,
        model: str | None = None,
    ) -> Fault:
        """A scripted answer. ``content`` replaces the content blocks (e.g. ``tool_use``
        blocks; their ``id`` is filled in when missing); ``usage`` is merged over the computed
        usage (a ``None`` value removes the key, e.g. ``{"cache_creation": None}``)."""
        return cls(
            kind="ok",
            text=text,
            usage=usage,
            content=tuple(content) if content is not None else None,
            stop_reason=stop_reason,
            delay_s=delay_s,
            model=model,
        )


class FaultPlan:
    """Picks the fault of each message request: the script, the responder, a magic model
    name, then the random rates (drawn from ``random.Random(seed)``)."""

    def __init__(
        self,
        *,
        seed: int | None = None,
        rates: Mapping[int | str, float] | None = None,
        responder: Responder | None = None,
    ) -> None:
        self._rates = check_rates(rates or {})
        self._seed = seed
        self._rng = random.Random(seed)
        self._responder = responder
        self._script: list[Fault] = []
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """How many scripted faults are still to be consumed."""
        with self._lock:
            return len(self._script)

    def enqueue(self, *faults: Fault) -> None:
        with self._lock:
            self._script.extend(faults)

    def reset(self) -> None:
        """Forget the script; reseed the random faults."""
        with self._lock:
            self._script.clear()
            self._rng = random.Random(self._seed)

    def choose(self, model: str, body: Mapping[str, Any]) -> Fault | None:
        """The fault for a request for ``model`` with ``body``, or ``None``."""
        with self._lock:
            for index, fault in enumerate(self._script):
                if fault.model is None or fault.model == model:
                    del self._script[index]
                    return fault
            if self._responder is not None:
                answer = self._responder(body)
                if answer is not None:
                    return answer
            magic = magic_fault(model)
            if magic is not None:
                return magic
            if self._rates:
                roll, total = self._rng.random(), 0.0
                for key, rate in self._rates.items():
                    total += rate
                    if roll < total:
                        return _rate_fault(key)
        return None


def check_rates(rates: Mapping[int | str, float]) -> dict[int | str, float]:
    """``rates`` when they are valid (error statuses, ``"reset"`` or ``"stream_error"``, each
    in [0, 1], adding up to at most 1); else a ``ValueError`` that says which is wrong."""
    for key, rate in rates.items():
        if not (isinstance(key, int) and key >= 400) and key not in ("reset", "stream_error"):
            raise ValueError(f"rates: {key!r} is not an error status, 'reset' or 'stream_error'")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rates: {key!r} has rate {rate}, expected a value in [0, 1]")
    if sum(rates.values()) > 1.0:
        raise ValueError(f"rates: they add up to {sum(rates.values())}, more than 1")
    return dict(rates)


def _rate_fault(key: int | str) -> Fault:
    if key == "reset":
        return Fault.reset()
    if key == "stream_error":
        return Fault.stream_error()
    assert isinstance(key, int)
    return Fault.status(key, retry_after=1 if key == 429 else None)


def magic_fault(model: str) -> Fault | None:
    """The fault a magic model name asks for (``fake-529``, ``fake-reset``, ...), or ``None``."""
    if not model.startswith("fake-"):
        return None
    name = model.removeprefix("fake-")
    if name == "reset":
        return Fault.reset()
    if name == "reset-mid":
        return Fault.reset(mid_body=True)
    if name.startswith("slow-"):
        with contextlib.suppress(ValueError):
            return Fault.slow_first_byte(float(name.removeprefix("slow-")))
        return None
    if name == "stream-error" or name.startswith("stream-error-"):
        return Fault.stream_error(
            name.removeprefix("stream-error").lstrip("-") or "overloaded_error"
        )
    if name == "429-no-retry-after":
        return Fault.status(429)
    if name.isdigit() and len(name) == 3 and int(name) >= 400:
        return Fault.status(int(name), retry_after=1 if name == "429" else None)
    return None
