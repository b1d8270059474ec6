"""One Messages API request and its answer, in the SDK's types: the body a
:class:`~ctxrouter.providers.base.ModelCall` becomes, and the
:class:`~ctxrouter.providers.base.ModelResponse` read back from a whole message or a stream.

Usage is read by :mod:`ctxrouter.models.usage` (the SDK's models dumped to the API's JSON
shape), with the rules every reader shares; a stream's usage is merged from ``message_start``
and ``message_delta`` the same way the gateway merges it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, cast

from anthropic import AsyncStream
from anthropic.types import Message as SDKMessage
from anthropic.types import MessageParam, RawMessageStreamEvent
from anthropic.types import Usage as SDKUsage

from ctxrouter.errors import APIConnectionError
from ctxrouter.models.usage import Usage, merge_stream_usage, parse_usage
from ctxrouter.providers.anthropic.errors import PROVIDER
from ctxrouter.providers.base import ModelCall, ModelResponse


def message_params(call: ModelCall) -> list[MessageParam]:
    return [cast(MessageParam, {"role": m.role, "content": m.content}) for m in call.messages]


def optional_fields(call: ModelCall) -> dict[str, Any]:
    """The body's fields besides ``model``, ``max_tokens``, ``messages`` and ``stream``:
    ``system``, ``temperature`` and ``call.extra`` (whose fields win)."""
    body = dict(call.extra)
    if call.system is not None:
        body.setdefault("system", call.system)
    if call.temperature is not None:
        body.setdefault("temperature", call.temperature)
    return body


def request_body(call: ModelCall) -> dict[str, Any]:
    """The body of ``call`` without ``stream`` (a Message Batch request's ``params``)."""
    return {
        "model": call.model,
        "max_tokens": call.max_tokens,
        "messages": message_params(call),
        **optional_fields(call),
    }


def usage_from_sdk(usage: SDKUsage) -> Usage:
    """Our :class:`Usage` from the SDK's."""
    return parse_usage(usage.model_dump())


def response_from_message(
    message: SDKMessage, *, latency_s: float, request_id: str | None
) -> ModelResponse:
    text = "".join(block.text for block in message.content if block.type == "text")
    return ModelResponse(
        text=text,
        model=message.model,
        usage=usage_from_sdk(message.usage),
        latency_s=latency_s,
        stop_reason=message.stop_reason,
        request_id=request_id,
    )


async def read_stream(
    stream: AsyncStream[RawMessageStreamEvent], *, model: str, started: float
) -> ModelResponse:
    """The answer of a streamed call, read to its end. Time to first token (``ttft_s``) is
    measured from ``started`` (a ``perf_counter``) to the first content delta. A stream that
    ends before ``message_stop`` raises :class:`~ctxrouter.errors.APIConnectionError`."""
    state = _StreamState(model=model)
    async with stream:
        async for event in stream:
            state.apply(event, started)
        request_id = stream.response.headers.get("request-id")
    if not state.stopped:
        raise APIConnectionError(
            f"{model}: the Anthropic stream ended before message_stop; "
            "the connection was probably cut, retrying may help",
            request_id=request_id,
            model=model,
            provider=PROVIDER,
        )
    return ModelResponse(
        text="".join(state.text),
        model=state.model,
        usage=parse_usage(state.usage),
        latency_s=time.perf_counter() - started,
        stop_reason=state.stop_reason,
        ttft_s=state.ttft_s,
        request_id=request_id,
    )


@dataclass
class _StreamState:
    """What the stream's events said so far."""

    model: str
    text: list[str] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)  # the API's usage object, merged
    stop_reason: str | None = None
    ttft_s: float | None = None
    stopped: bool = False

    def apply(self, event: RawMessageStreamEvent, started: float) -> None:
        if event.type == "message_start":
            self.model = event.message.model
            start = event.message.usage.model_dump()
            self.usage = merge_stream_usage(self.usage, start, event="message_start")
        elif event.type == "content_block_delta":
            if self.ttft_s is None:
                self.ttft_s = time.perf_counter() - started
            if event.delta.type == "text_delta":
                self.text.append(event.delta.text)
        elif event.type == "message_delta":
            self.stop_reason = event.delta.stop_reason
            delta = event.usage.model_dump()
            self.usage = merge_stream_usage(self.usage, delta, event="message_delta")
        elif event.type == "message_stop":
            self.stopped = True


__all__ = [
    "message_params",
    "optional_fields",
    "read_stream",
    "request_body",
    "response_from_message",
    "usage_from_sdk",
]
