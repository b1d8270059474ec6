"""The Anthropic provider: a :class:`~ctxrouter.providers.base.ModelCall` sent to the Messages
API through the official SDK's ``AsyncAnthropic``.

**No retries here.** The SDK client is built with ``max_retries=0``: ctxrouter's executor
retries, backs off (honouring ``retry-after``) and falls back to another model itself. Retrying
in both layers would multiply the attempts and hide failures from telemetry and the circuit
breakers.

**Errors.** Every failure is raised as a :class:`~ctxrouter.errors.ProviderError` subclass
(chosen with :func:`~ctxrouter.errors.provider_error_for_status`) carrying the status, body,
headers, request id, ``retry_after`` and the Anthropic error type. No answer in time is an
:class:`~ctxrouter.errors.APITimeoutError`; a refused or reset connection, also in the middle
of a stream, an :class:`~ctxrouter.errors.APIConnectionError`; an ``event: error`` in a stream
a :class:`~ctxrouter.errors.StreamError`.

**Usage.** Cache writes are split 5-minute / 1-hour from ``usage.cache_creation``; when the API
does not send the split, every ``cache_creation_input_tokens`` counts as a 5-minute write.

**Message Batches.** :meth:`AnthropicProvider.run_batch` sends many calls as one Message Batch
(half price, answered within 24 hours): create, poll until ``ended``, read the results. Each
call's outcome is a :class:`~ctxrouter.providers.base.ModelResponse` or a ``ProviderError``:
an ``errored`` result is the subclass of its error type's status (``overloaded_error`` →
:class:`~ctxrouter.errors.OverloadedError`, ...), ``expired`` an
:class:`~ctxrouter.errors.APITimeoutError` (retryable) and ``canceled`` a plain
:class:`~ctxrouter.errors.ProviderError` (not retryable), each with ``error_type`` set.
:class:`~ctxrouter.providers.batching.MessageBatcher` turns concurrent ``complete`` calls into
batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from types import MappingProxyType, TracebackType
from typing import Any, Self, cast

import anthropic
import httpx2
from anthropic.types import Message as SDKMessage
from anthropic.types import MessageParam, RawMessageStreamEvent
from anthropic.types import Usage as SDKUsage
from anthropic.types.messages import (
    MessageBatch,
    MessageBatchCanceledResult,
    MessageBatchErroredResult,
    MessageBatchExpiredResult,
    MessageBatchResult,
    MessageBatchSucceededResult,
)
from anthropic.types.messages.batch_create_params import Request as BatchRequest

from ctxrouter.errors import (
    APIConnectionError,
    APITimeoutError,
    ConfigError,
    InputError,
    ProviderError,
    StreamError,
    provider_error_for_status,
)
from ctxrouter.models.pricing import Usage
from ctxrouter.providers.base import ModelCall, ModelResponse

DEFAULT_TIMEOUT_S = 600.0
PROVIDER = "anthropic"
_CANCEL_TIMEOUT_S = 10.0  # for the best-effort cancel of an abandoned batch


class AnthropicProvider:
    """The :class:`~ctxrouter.providers.base.Provider` for the Anthropic Messages API.

    ``api_key`` and ``base_url`` default as in the SDK (``ANTHROPIC_API_KEY`` /
    ``ANTHROPIC_AUTH_TOKEN``, ``ANTHROPIC_BASE_URL``, then ``https://api.anthropic.com``).
    ``timeout`` (seconds, unless the call sets ``timeout_s``) bounds each wait: to connect, to
    send, and for the next bytes of the answer (the first byte, or the next chunk of a stream),
    not the whole call. Time to first token (``ttft_s``) is measured to the first content delta.
    """

    name = PROVIDER

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self._timeout = timeout
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=0,  # the executor retries; see the module docstring
            default_headers=default_headers,
        )
        client = self._client
        # no key, token or credentials (profile, federation): fail now, not at the first call
        credentials = getattr(client, "_token_cache", None)
        if client.api_key is None and client.auth_token is None and credentials is None:
            raise ConfigError("no Anthropic credentials: pass api_key= or set ANTHROPIC_API_KEY")

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    async def complete(self, call: ModelCall) -> ModelResponse:
        started = time.perf_counter()
        try:
            if call.stream:
                return await self._stream(call, started)
            return await self._create(call, started)
        except (anthropic.APIError, httpx2.TransportError) as exc:
            raise provider_error_from_sdk(exc, model=call.model) from exc

    async def run_batch(
        self,
        calls: Sequence[tuple[str, ModelCall]],
        *,
        poll_interval_s: float = 30.0,
        timeout_s: float = 86400.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> dict[str, ModelResponse | ProviderError]:
        """Send ``calls`` (``(custom_id, call)`` pairs) as one Message Batch, wait until it has
        ended and return each ``custom_id``'s response or error.

        ``custom_id`` must be unique, 1-64 letters, digits, ``_`` or ``-``. ``stream`` and
        ``timeout_s`` of the calls do not apply. The batch is polled every
        ``poll_interval_s`` with ``sleep`` (default :func:`asyncio.sleep`; pass a clock's
        ``sleep`` to run on virtual time); ``timeout_s`` is the sum of these waits, after which
        the batch is canceled and :class:`~ctxrouter.errors.APITimeoutError` raised. So is a
        batch whose caller is cancelled (best effort), to not pay for answers nobody reads.
        ``latency_s`` of every response is the batch's wall time, and its ``request_id`` the
        batch id (``msgbatch_...``), which is what Anthropic asks for about a batch result.
        Failing to create, poll or read the batch raises a ``ProviderError`` as
        :meth:`complete` does.
        """
        if poll_interval_s <= 0:
            raise InputError(f"run_batch: poll_interval_s must be > 0, got {poll_interval_s}")
        model_of: dict[str, str] = {}
        for custom_id, call in calls:
            if custom_id in model_of:
                raise InputError(f"run_batch: custom_id {custom_id!r} is used more than once")
            model_of[custom_id] = call.model
        if not calls:
            return {}
        label = ", ".join(dict.fromkeys(model_of.values()))  # the models, for messages
        started = time.perf_counter()
        pending_id: str | None = None  # a batch to cancel if we give up on it
        try:
            batch = await self._client.messages.batches.create(
                requests=[_batch_request(custom_id, call) for custom_id, call in calls]
            )
            pending_id = batch.id
            batch = await self._poll(
                batch, poll_interval_s, timeout_s, sleep or asyncio.sleep, model=label
            )
            pending_id = None  # ended: nothing left to cancel
            outcomes: dict[str, MessageBatchResult] = {}
            results = await self._client.messages.batches.results(batch.id)
            try:
                async for entry in results:
                    outcomes[entry.custom_id] = entry.result
            finally:
                await results.close()
        except (anthropic.APIError, httpx2.TransportError) as exc:
            raise provider_error_from_sdk(exc, model=label) from exc
        finally:
            if pending_id is not None:  # timed out, failed or cancelled while it ran
                await self._cancel_quietly(pending_id)
        latency = time.perf_counter() - started
        return {
            custom_id: _batch_outcome(
                outcomes.get(custom_id),
                custom_id=custom_id,
                model=model,
                batch_id=batch.id,
                latency_s=latency,
            )
            for custom_id, model in model_of.items()
        }

    async def _poll(
        self,
        batch: MessageBatch,
        interval_s: float,
        timeout_s: float,
        sleep: Callable[[float], Awaitable[None]],
        *,
        model: str,
    ) -> MessageBatch:
        """Retrieve ``batch`` every ``interval_s`` until it has ended."""
        waited = 0.0
        while batch.processing_status != "ended":
            if waited >= timeout_s:
                counts = batch.request_counts
                raise APITimeoutError(
                    f"{model}: Message Batch {batch.id} was still {batch.processing_status} after "
                    f"{waited:g}s ({counts.processing} of {_total(batch)} requests processing); "
                    "it is being canceled. Raise timeout_s to wait longer",
                    request_id=batch.id,
                    model=model,
                    provider=PROVIDER,
                    error_type="batch_timeout",
                )
            pause = min(interval_s, timeout_s - waited)
            await sleep(pause)
            waited += pause
            batch = await self._client.messages.batches.retrieve(batch.id)
        return batch

    async def _cancel_quietly(self, batch_id: str) -> None:
        """Cancel a batch we gave up on, so its requests are not run (and billed) for nothing.
        Best effort: a failure is ignored."""
        with contextlib.suppress(anthropic.APIError, httpx2.TransportError):
            await self._client.messages.batches.cancel(batch_id, timeout=_CANCEL_TIMEOUT_S)

    async def aclose(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _create(self, call: ModelCall, started: float) -> ModelResponse:
        message = await self._client.messages.create(
            model=call.model,
            max_tokens=call.max_tokens,
            messages=_messages(call),
            system=call.system if call.system is not None else anthropic.omit,
            stream=False,
            timeout=call.timeout_s if call.timeout_s is not None else self._timeout,
            extra_body=_extra_body(call),
        )
        latency = time.perf_counter() - started
        return _response(message, latency_s=latency, request_id=message._request_id)

    async def _stream(self, call: ModelCall, started: float) -> ModelResponse:
        stream = await self._client.messages.create(
            model=call.model,
            max_tokens=call.max_tokens,
            messages=_messages(call),
            system=call.system if call.system is not None else anthropic.omit,
            stream=True,
            timeout=call.timeout_s if call.timeout_s is not None else self._timeout,
            extra_body=_extra_body(call),
        )
        state = _StreamState(model=call.model)
        async with stream:
            async for event in stream:
                state.apply(event, started)
            request_id = stream.response.headers.get("request-id")
        if not state.stopped:
            raise APIConnectionError(
                f"{call.model}: the Anthropic stream ended before message_stop; "
                "the connection was probably cut, retrying may help",
                request_id=request_id,
                model=call.model,
                provider=PROVIDER,
            )
        return ModelResponse(
            text="".join(state.text),
            model=state.model,
            usage=state.usage(),
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
    start_usage: SDKUsage | None = None
    totals: dict[str, int] = field(default_factory=dict)  # cumulative counts of message_delta
    stop_reason: str | None = None
    ttft_s: float | None = None
    stopped: bool = False

    def apply(self, event: RawMessageStreamEvent, started: float) -> None:
        if event.type == "message_start":
            self.model = event.message.model
            self.start_usage = event.message.usage
        elif event.type == "content_block_delta":
            if self.ttft_s is None:
                self.ttft_s = time.perf_counter() - started
            if event.delta.type == "text_delta":
                self.text.append(event.delta.text)
        elif event.type == "message_delta":
            self.stop_reason = event.delta.stop_reason
            counts = event.usage.model_dump(exclude_none=True)
            self.totals.update({k: v for k, v in counts.items() if isinstance(v, int)})
        elif event.type == "message_stop":
            self.stopped = True

    def usage(self) -> Usage:
        start = self.start_usage
        split = start.cache_creation if start is not None else None

        def count(name: str) -> int:
            value = self.totals.get(name, getattr(start, name, None) if start else None)
            return int(value or 0)

        return _usage(
            input_tokens=count("input_tokens"),
            output_tokens=count("output_tokens"),
            cache_creation=count("cache_creation_input_tokens"),
            cache_read=count("cache_read_input_tokens"),
            split=(split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens)
            if split is not None
            else None,
        )


def _response(message: SDKMessage, *, latency_s: float, request_id: str | None) -> ModelResponse:
    text = "".join(block.text for block in message.content if block.type == "text")
    return ModelResponse(
        text=text,
        model=message.model,
        usage=usage_from_sdk(message.usage),
        latency_s=latency_s,
        stop_reason=message.stop_reason,
        request_id=request_id,
    )


def usage_from_sdk(usage: SDKUsage) -> Usage:
    """Our :class:`Usage` from the SDK's (5m/1h split from ``cache_creation`` when given)."""
    split = usage.cache_creation
    return _usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_creation=usage.cache_creation_input_tokens or 0,
        cache_read=usage.cache_read_input_tokens or 0,
        split=(split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens)
        if split is not None
        else None,
    )


def _usage(
    *,
    input_tokens: int,
    output_tokens: int,
    cache_creation: int,
    cache_read: int,
    split: tuple[int, int] | None,
) -> Usage:
    five_min, one_hour = split if split is not None else (cache_creation, 0)
    five_min += max(0, cache_creation - five_min - one_hour)  # tokens the split leaves out
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_creation_5m_tokens=five_min,
        cache_creation_1h_tokens=one_hour,
        cache_read_tokens=cache_read,
    )


def _messages(call: ModelCall) -> list[MessageParam]:
    return [cast(MessageParam, {"role": m.role, "content": m.content}) for m in call.messages]


def _extra_body(call: ModelCall) -> dict[str, Any] | None:
    """``call.extra`` and the fields this SDK's ``create`` has no parameter for (temperature)."""
    body = dict(call.extra)
    if call.temperature is not None:
        body.setdefault("temperature", call.temperature)
    return body or None


# -- Message Batches ----------------------------------------------------------------------


def _batch_request(custom_id: str, call: ModelCall) -> BatchRequest:
    """One request of a batch: the body ``complete`` would send, without ``stream``."""
    params: dict[str, Any] = {
        "model": call.model,
        "max_tokens": call.max_tokens,
        "messages": _messages(call),
    }
    if call.system is not None:
        params["system"] = call.system
    params.update(_extra_body(call) or {})
    return cast(BatchRequest, {"custom_id": custom_id, "params": params})


def _total(batch: MessageBatch) -> int:
    counts = batch.request_counts
    return counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired


# the status the Messages API answers for each error type (a batch result carries the type only)
_STATUS_OF_ERROR_TYPE: Mapping[str, int] = MappingProxyType(
    {
        "invalid_request_error": 400,
        "authentication_error": 401,
        "billing_error": 402,
        "permission_error": 403,
        "not_found_error": 404,
        "request_too_large": 413,
        "rate_limit_error": 429,
        "api_error": 500,
        "timeout_error": 504,
        "overloaded_error": 529,
    }
)


def _batch_outcome(
    result: MessageBatchResult | None,
    *,
    custom_id: str,
    model: str,
    batch_id: str,
    latency_s: float,
) -> ModelResponse | ProviderError:
    """One request's result in a batch, as our response or error."""
    where = f"request {custom_id!r} of Message Batch {batch_id}"
    common: dict[str, Any] = {"model": model, "provider": PROVIDER, "request_id": batch_id}
    if isinstance(result, MessageBatchSucceededResult):
        return _response(result.message, latency_s=latency_s, request_id=batch_id)
    if isinstance(result, MessageBatchErroredResult):
        return _batch_error(result, where=where, model=model, batch_id=batch_id)
    if isinstance(result, MessageBatchExpiredResult):
        return APITimeoutError(
            f"{model}: {where} expired: the batch reached its 24 hours before running it; "
            "send it again",
            error_type="expired",
            **common,
        )
    if isinstance(result, MessageBatchCanceledResult):
        return ProviderError(
            f"{model}: {where} was canceled before it ran", error_type="canceled", **common
        )
    kind = getattr(result, "type", None)
    return ProviderError(
        f"{model}: {where} has no usable result ({'none' if result is None else kind!r})",
        error_type="missing" if result is None else str(kind),
        **common,
    )


def _batch_error(
    result: MessageBatchErroredResult, *, where: str, model: str, batch_id: str
) -> ProviderError:
    detail = result.error.error
    error_type = str(getattr(detail, "type", "") or "api_error")
    message = str(getattr(detail, "message", "") or "")
    status = _STATUS_OF_ERROR_TYPE.get(error_type)
    advice = _ADVICE.get(status or 500, "a server error; retrying may help")
    if status is not None and 400 < status < 500 and status not in _ADVICE:
        advice = "retrying will not help"
    return (provider_error_for_status(status) if status else ProviderError)(
        f"{model}: {where} errored with {error_type}: {message}; {advice}",
        status=status,
        body=result.error.model_dump(mode="json"),
        request_id=result.error.request_id or batch_id,
        model=model,
        provider=PROVIDER,
        error_type=error_type,
    )


# -- errors -------------------------------------------------------------------------------

_ADVICE: Mapping[int, str] = MappingProxyType(
    {
        400: "the request was rejected; fix it, retrying will not help",
        401: "check the API key (ANTHROPIC_API_KEY)",
        403: "the API key may not use this model or resource",
        404: "check the model id and the base URL",
        413: "the request is too large; shorten the prompt",
        429: "rate limited",
        529: "Anthropic is overloaded; retry later or fall back to another model",
    }
)


def provider_error_from_sdk(exc: Exception, *, model: str) -> ProviderError:
    """The :class:`ProviderError` for an exception of the SDK (or of its HTTP client, which
    the SDK lets through in the middle of a stream)."""
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return APITimeoutError(
            f"{model}: no answer from Anthropic in time; retry, or raise the timeout",
            model=model,
            provider=PROVIDER,
        )
    if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        cause = exc.__cause__ or exc
        return APIConnectionError(
            f"{model}: could not talk to Anthropic ({type(cause).__name__}: {cause}); "
            "check the network and base URL, retrying may help",
            model=model,
            provider=PROVIDER,
        )
    if isinstance(exc, anthropic.APIStatusError):
        return _status_error(exc, model)
    body = exc.body if isinstance(exc, anthropic.APIError) else None
    return ProviderError(
        f"{model}: Anthropic call failed: {exc}", body=body, model=model, provider=PROVIDER
    )


def _status_error(exc: anthropic.APIStatusError, model: str) -> ProviderError:
    headers = {k.lower(): v for k, v in exc.response.headers.items()}
    status = exc.status_code
    error_type = str(exc.type) if exc.type is not None else None
    detail = exc.api_message or str(exc)
    where = f" (request id {exc.request_id})" if exc.request_id else ""
    if status < 400:  # an `event: error` after a 200: the stream failed part-way
        return StreamError(
            f"{model}: Anthropic stream failed with {error_type}: {detail}{where}",
            body=exc.body,
            headers=headers,
            request_id=exc.request_id,
            model=model,
            provider=PROVIDER,
            error_type=error_type,
        )
    retry_after = parse_retry_after(headers)
    advice = _ADVICE.get(status, "a server error; retrying may help" if status >= 500 else "")
    if status == 429:
        advice += (
            f"; retry after {retry_after:g}s"
            if retry_after is not None
            else (" without retry-after: a quota or spend limit, waiting will not help")
        )
    return provider_error_for_status(status)(
        f"{model}: Anthropic answered {status} {error_type}: {detail}{where}; {advice}",
        status=status,
        body=exc.body,
        headers=headers,
        request_id=exc.request_id,
        retry_after=retry_after,
        model=model,
        provider=PROVIDER,
        error_type=error_type,
    )


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``retry-after`` (seconds or an HTTP date,
    counted from ``now``, default the current time); ``None`` when absent or unreadable."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if (millis := lowered.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "AnthropicProvider",
    "parse_retry_after",
    "provider_error_from_sdk",
    "usage_from_sdk",
]
