"""Message Batches in the SDK's types: one call as a batch request, and one request's result
as our response or error.

A ``succeeded`` result is a :class:`~ctxrouter.providers.base.ModelResponse`; an ``errored``
one the :class:`~ctxrouter.errors.ProviderError` subclass of its error type's status
(``overloaded_error`` → :class:`~ctxrouter.errors.OverloadedError`, ...), ``expired`` an
:class:`~ctxrouter.errors.APITimeoutError` (retryable) and ``canceled`` a plain
:class:`~ctxrouter.errors.ProviderError` (not retryable), each with ``error_type`` set.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

from anthropic.types.messages import (
    MessageBatch,
    MessageBatchCanceledResult,
    MessageBatchErroredResult,
    MessageBatchExpiredResult,
    MessageBatchResult,
    MessageBatchSucceededResult,
)
from anthropic.types.messages.batch_create_params import Request as BatchRequest

from ctxrouter.errors import APITimeoutError, ProviderError, provider_error_for_status
from ctxrouter.providers.anthropic.errors import PROVIDER, advice
from ctxrouter.providers.anthropic.messages import request_body, response_from_message
from ctxrouter.providers.base import ModelCall, ModelResponse

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


def batch_request(custom_id: str, call: ModelCall) -> BatchRequest:
    """One request of a batch: the body ``complete`` would send, without ``stream``."""
    return cast(BatchRequest, {"custom_id": custom_id, "params": request_body(call)})


def request_count(batch: MessageBatch) -> int:
    counts = batch.request_counts
    return counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired


def batch_outcome(
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
        return response_from_message(result.message, latency_s=latency_s, request_id=batch_id)
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
    return (provider_error_for_status(status) if status else ProviderError)(
        f"{model}: {where} errored with {error_type}: {message}; {advice(status)}",
        status=status,
        body=result.error.model_dump(mode="json"),
        request_id=result.error.request_id or batch_id,
        model=model,
        provider=PROVIDER,
        error_type=error_type,
    )


__all__ = ["batch_outcome", "batch_request", "request_count"]
