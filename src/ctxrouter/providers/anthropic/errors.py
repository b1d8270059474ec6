"""What a failed Anthropic call raises: every SDK exception as a
:class:`~ctxrouter.errors.ProviderError` subclass.

The subclass is chosen with :func:`~ctxrouter.errors.provider_error_for_status` and carries the
status, body, headers, request id, ``retry_after`` and the Anthropic error type. No answer in
time is an :class:`~ctxrouter.errors.APITimeoutError`; a refused or reset connection, also in
the middle of a stream, an :class:`~ctxrouter.errors.APIConnectionError`; an ``event: error``
in a stream a :class:`~ctxrouter.errors.StreamError`.

The SDK (2.17) raises every transport failure as ``anthropic.APITimeoutError`` or
``anthropic.APIConnectionError``, also while a stream or a batch's results are read (it wraps
its HTTP client's exceptions), so nothing here looks at the HTTP client's own exceptions;
``tests/providers/test_anthropic_provider.py`` checks it against the fake server (refused,
reset before and in the middle of the body, first byte and next chunk too late).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import anthropic

from ctxrouter.errors import (
    APIConnectionError,
    APITimeoutError,
    ProviderError,
    StreamError,
    http_error,
    parse_retry_after,
)

PROVIDER = "anthropic"

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


def advice(status: int | None) -> str:
    """What to do about an answer of ``status`` (``None``: unknown, taken as a server error)."""
    if status is not None and status in _ADVICE:
        return _ADVICE[status]
    if status is None or status >= 500:
        return "a server error; retrying may help"
    return "retrying will not help"


def provider_error_from_sdk(exc: anthropic.APIError, *, model: str) -> ProviderError:
    """The :class:`ProviderError` for an exception of the SDK."""
    if isinstance(exc, anthropic.APITimeoutError):
        return APITimeoutError(
            f"{model}: no answer from Anthropic in time; retry, or raise the timeout",
            model=model,
            provider=PROVIDER,
        )
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__ or exc
        return APIConnectionError(
            f"{model}: could not talk to Anthropic ({type(cause).__name__}: {cause}); "
            "check the network and base URL, retrying may help",
            model=model,
            provider=PROVIDER,
        )
    if isinstance(exc, anthropic.APIStatusError):
        return _status_error(exc, model)
    return ProviderError(
        f"{model}: Anthropic call failed: {exc}", body=exc.body, model=model, provider=PROVIDER
    )


def _status_error(exc: anthropic.APIStatusError, model: str) -> ProviderError:
    headers = {k.lower(): v for k, v in exc.response.headers.items()}
    status, body, request_id = exc.status_code, exc.body, exc.request_id
    error_type = str(exc.type) if exc.type is not None else None
    detail = exc.api_message or str(exc)
    where = f" (request id {request_id})" if request_id else ""
    if status < 400:  # an `event: error` after a 200: the stream failed part-way
        message = f"{model}: Anthropic stream failed with {error_type}: {detail}{where}"
        return StreamError(
            message, body=body, headers=headers, request_id=request_id, model=model,
            provider=PROVIDER, error_type=error_type,
        )  # fmt: skip
    what_to_do = advice(status)
    if status == 429:
        retry_after = parse_retry_after(headers)
        what_to_do += (
            f"; retry after {retry_after:g}s"
            if retry_after is not None
            else " without retry-after: a quota or spend limit, waiting will not help"
        )
    message = f"{model}: Anthropic answered {status} {error_type}: {detail}{where}; {what_to_do}"
    return http_error(
        status, message, headers=headers, body=body, request_id=request_id, model=model,
        provider=PROVIDER, error_type=error_type,
    )  # fmt: skip


__all__ = ["PROVIDER", "advice", "provider_error_from_sdk"]
