"""The Anthropic provider: a :class:`~ctxrouter.providers.base.ModelCall` sent to the Messages
API through the official SDK's ``AsyncAnthropic``, one call at a time or as a Message Batch.

**No retries here.** The SDK client is built with ``max_retries=0``: ctxrouter's executor
retries, backs off (honouring ``retry-after``) and falls back to another model itself. Retrying
in both layers would multiply the attempts and hide failures from telemetry and the circuit
breakers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

import anthropic
from anthropic import AsyncStream
from anthropic.types.messages import MessageBatch, MessageBatchResult

from ctxrouter.errors import APITimeoutError, ConfigError, InputError, ProviderError
from ctxrouter.providers.anthropic.batches import batch_outcome, batch_request, request_count
from ctxrouter.providers.anthropic.errors import PROVIDER, provider_error_from_sdk
from ctxrouter.providers.anthropic.messages import (
    message_params,
    optional_fields,
    read_stream,
    response_from_message,
)
from ctxrouter.providers.base import ClosesOnExit, ModelCall, ModelResponse

DEFAULT_TIMEOUT_S = 600.0
_CANCEL_TIMEOUT_S = 10.0  # for the best-effort cancel of an abandoned batch


class AnthropicProvider(ClosesOnExit):
    """The :class:`~ctxrouter.providers.base.Provider` for the Anthropic Messages API.

    ``api_key`` and ``base_url`` default as in the SDK (``ANTHROPIC_API_KEY`` /
    ``ANTHROPIC_AUTH_TOKEN``, ``ANTHROPIC_BASE_URL``, then ``https://api.anthropic.com``).
    ``timeout`` (seconds, unless the call sets ``timeout_s``) bounds each wait: to connect, to
    send, and for the next bytes of the answer (the first byte, or the next chunk of a stream),
    not the whole call. Time to first token (``ttft_s``) is measured to the first content delta.
    Failures raise :class:`~ctxrouter.errors.ProviderError` subclasses
    (:mod:`ctxrouter.providers.anthropic.errors`).
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
            answer = await self._client.messages.create(
                model=call.model,
                max_tokens=call.max_tokens,
                messages=message_params(call),
                stream=call.stream,
                timeout=call.timeout_s if call.timeout_s is not None else self._timeout,
                extra_body=optional_fields(call) or None,
            )
            if isinstance(answer, AsyncStream):
                return await read_stream(answer, model=call.model, started=started)
            latency = time.perf_counter() - started
            return response_from_message(answer, latency_s=latency, request_id=answer._request_id)
        except anthropic.APIError as exc:
            raise provider_error_from_sdk(exc, model=call.model) from exc

    async def run_batch(
        self,
        calls: Sequence[tuple[str, ModelCall]],
        *,
        poll_interval_s: float = 30.0,
        timeout_s: float = 86400.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> dict[str, ModelResponse | ProviderError]:
        """Send ``calls`` (``(custom_id, call)`` pairs) as one Message Batch (half price,
        answered within 24 hours), wait until it has ended and return each ``custom_id``'s
        response or error (:mod:`ctxrouter.providers.anthropic.batches`).

        ``custom_id`` must be unique, 1-64 letters, digits, ``_`` or ``-``. ``stream`` and
        ``timeout_s`` of the calls do not apply. The batch is polled every
        ``poll_interval_s`` with ``sleep`` (default :func:`asyncio.sleep`; pass a clock's
        ``sleep`` to run on virtual time); ``timeout_s`` is the sum of these waits, after which
        the batch is canceled and :class:`~ctxrouter.errors.APITimeoutError` raised. So is a
        batch whose caller is cancelled (best effort), to not pay for answers nobody reads.
        ``latency_s`` of every response is the batch's wall time, and its ``request_id`` the
        batch id (``msgbatch_...``), which is what Anthropic asks for about a batch result.
        Failing to create, poll or read the batch raises a ``ProviderError`` as
        :meth:`complete` does. :class:`~ctxrouter.providers.batching.MessageBatcher` turns
        concurrent ``complete`` calls into batches.
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
                requests=[batch_request(custom_id, call) for custom_id, call in calls]
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
        except anthropic.APIError as exc:
            raise provider_error_from_sdk(exc, model=label) from exc
        finally:
            if pending_id is not None:  # timed out, failed or cancelled while it ran
                await self._cancel_quietly(pending_id)
        latency = time.perf_counter() - started
        return {
            custom_id: batch_outcome(
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
                processing = batch.request_counts.processing
                raise APITimeoutError(
                    f"{model}: Message Batch {batch.id} was still {batch.processing_status} after "
                    f"{waited:g}s ({processing} of {request_count(batch)} requests processing); "
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
        with contextlib.suppress(anthropic.APIError):
            await self._client.messages.batches.cancel(batch_id, timeout=_CANCEL_TIMEOUT_S)

    async def aclose(self) -> None:
        await self._client.close()


__all__ = ["DEFAULT_TIMEOUT_S", "AnthropicProvider"]
