"""One upstream try of a message request, and the byte relay of its answer.

:func:`send_once` is the gateway's ``send`` for the attempt engine
(:mod:`ctxrouter.execution.attempts`): it posts the request, and either returns the
:class:`~starlette.responses.Response` the client gets, or raises a
:class:`~ctxrouter.errors.ProviderError` (retryable or not) that carries the upstream's answer
so that the client gets it unchanged if the engine gives up. A stream is read up to its first
chunk before anything reaches the client: a stream that opens with a retryable
``event: error`` can still be retried, unless no try would follow (then it is passed through
as it is). Once bytes have gone out, an error event is relayed like any other: two answers are
never spliced. Every try ends as one Event: a stream's when its last event has been read.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response, StreamingResponse

from ctxrouter.errors import (
    APIConnectionError,
    ProviderError,
    StreamError,
    http_error,
)
from ctxrouter.execution.attempts import AttemptHandle
from ctxrouter.gateway.decide import adapt_body
from ctxrouter.gateway.http import error_response, error_type_of, response_headers
from ctxrouter.gateway.sse import StreamUsage, usage_from_body
from ctxrouter.gateway.upstream import Upstream, UpstreamAnswer, UpstreamError
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.telemetry.event import Outcome


@dataclass(frozen=True, slots=True)
class MessageRequest:
    """A message request as the client sent it, ready to be sent upstream per model."""

    url: str  # path and query
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes
    asked: str  # the model the client asked for
    stream: bool

    def payload(self, model: str, registry: ModelRegistry) -> bytes:
        """The bytes to send for ``model``: the client's own when it is the asked model, else
        the body with ``model`` replaced (and clamped to its limits)."""
        if model == self.asked:
            return self.raw
        body = adapt_body({**self.body, "model": model}, registry.find(model))
        return json.dumps(body, ensure_ascii=False).encode()


async def send_once(
    upstream: Upstream, registry: ModelRegistry, message: MessageRequest, attempt: AttemptHandle
) -> Response:
    """One try of ``message`` on ``attempt.model`` (see the module's docstring)."""
    asked = message.asked if attempt.model != message.asked else None
    payload = message.payload(attempt.model, registry)
    try:
        answer = await upstream.send("POST", message.url, message.headers, payload)
    except UpstreamError as exc:
        raise _connection_failed(attempt, exc, asked) from None
    content_type = answer.headers.get("content-type", "")
    if message.stream and answer.status == 200 and "text/event-stream" in content_type:
        return await _start_stream(attempt, answer, asked)
    try:
        content = await answer.read()
    except UpstreamError as exc:
        raise _connection_failed(attempt, exc, asked) from None
    request_id = answer.headers.get("request-id")
    headers = response_headers(answer)
    if answer.is_success:
        event = attempt.answered(
            usage_from_body(content),
            status_code=answer.status,
            request_id=request_id,
            latency_ms=attempt.elapsed_ms(),
            requested_model=asked,
        )
        attempt.emit(event)
        return Response(content, answer.status, headers=headers)
    error_type = error_type_of(content)
    error = http_error(
        answer.status, error_type or f"HTTP {answer.status}", headers=headers, body=content,
        request_id=request_id, model=attempt.model, error_type=error_type,
    )  # fmt: skip
    attempt.failed(error, latency_ms=attempt.elapsed_ms(), requested_model=asked)
    raise error


def _connection_failed(
    attempt: AttemptHandle, exc: UpstreamError, asked: str | None
) -> ProviderError:
    error = APIConnectionError(f"upstream unreachable: {exc.kind}", model=attempt.model)
    attempt.failed(error, latency_ms=attempt.elapsed_ms(), requested_model=asked)
    return error


async def _start_stream(
    attempt: AttemptHandle, answer: UpstreamAnswer, asked: str | None
) -> Response:
    parser = StreamUsage()
    chunks = answer.chunks()
    try:
        first = await anext(chunks, b"")
    except UpstreamError as exc:
        answer.close()
        raise _connection_failed(attempt, exc, asked) from None
    ttft = attempt.elapsed_ms()
    parser.feed(first)
    error_type = parser.error_type
    if error_type is not None and parser.response_model is None and not attempt.final:
        error = StreamError(error_type, error_type=error_type, model=attempt.model)
        if error.retryable:
            answer.close()
            status = 529 if error.kind == "overloaded" else 500
            body = error_response(status, error_type, f"the stream opened with {error_type}").body
            error.status, error.body, error.headers = status, bytes(body), {}
            attempt.failed(
                error,
                status_code=answer.status,
                ttft_ms=ttft,
                latency_ms=attempt.elapsed_ms(),
                request_id=answer.headers.get("request-id"),
                requested_model=asked,
            )
            raise error
    return StreamingResponse(
        _relay(attempt, answer, parser, first, chunks, ttft, asked),
        status_code=answer.status,
        headers=response_headers(answer),
    )


async def _relay(
    attempt: AttemptHandle,
    answer: UpstreamAnswer,
    parser: StreamUsage,
    first: bytes,
    rest: AsyncIterator[bytes],
    ttft: float,
    asked: str | None,
) -> AsyncIterator[bytes]:
    """Pass the SSE bytes on as they come, reading usage. The Event is emitted as soon as the
    stream's last event (``message_stop`` or ``error``) has been read, before that chunk goes
    out, so a client that has read the whole stream can see it; a stream cut short is
    recorded when it ends."""

    def finish(failure: str | None = None) -> None:
        if attempt.emitted:
            return
        error_type = failure or _kind(parser.error_type)
        if error_type is None and not parser.stopped:
            error_type = "incomplete_stream"  # the client went away, or upstream did
        event = attempt.answered(
            parser.usage if parser.seen_usage else None,
            outcome=Outcome.ERROR if error_type else Outcome.SUCCESS,
            error_type=error_type,
            status_code=answer.status,
            ttft_ms=ttft,
            latency_ms=attempt.elapsed_ms(),
            request_id=answer.headers.get("request-id"),
            requested_model=asked,
        )
        attempt.emit(event)

    try:
        chunk = first
        while True:
            if parser.stopped or parser.error_type is not None:
                finish()
            if chunk:
                yield chunk
            next_chunk = await anext(rest, None)
            if next_chunk is None:
                break
            chunk = next_chunk
            parser.feed(chunk)
        parser.close()
    except UpstreamError as exc:
        finish(APIConnectionError(exc.kind).kind)
        raise
    finally:
        answer.close()
        finish()


def _kind(error_type: str | None) -> str | None:
    """An ``event: error``'s type as telemetry names errors (``overloaded``, ...)."""
    return None if error_type is None else StreamError(error_type, error_type=error_type).kind


__all__ = ["MessageRequest", "send_once"]
