"""The exceptions ctxrouter raises, as one tree.

::

    CtxRouterError                    base of everything ctxrouter raises on purpose
    ├── ConfigError                   a setting or config file is wrong
    ├── InputError                    a value given on the command line / API is wrong
    ├── CatalogError                  agent definitions could not be loaded (carries Problems)
    ├── UnknownAgentError             an agent name that the catalog does not have
    ├── UnknownModelError             a model id that the model registry does not have
    ├── PricingError                  usage could not be priced (e.g. no price in force that day)
    ├── ProviderError                 a model provider failed (one subclass per upstream status)
    ├── FallbackExhausted             every model option failed; carries every attempt's error
    └── BudgetExceeded                a cost budget would be exceeded

Every message says what was wrong, where, and what to do about it.
"""

from __future__ import annotations

import difflib
import email.utils
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest of ``choices`` to ``word`` or ``None``; used for "did you mean" hints."""
    matches = difflib.get_close_matches(word.lower(), [c.lower() for c in choices], 1, cutoff)
    if not matches:
        return None
    lowered = {c.lower(): c for c in choices}
    return lowered[matches[0]]


def _hint(word: str, choices: Iterable[str]) -> str:
    guess = did_you_mean(word, choices)
    return f" (did you mean {guess!r}?)" if guess else ""


class CtxRouterError(Exception):
    """Base class of every error ctxrouter raises on purpose."""

    # Set by the executor on an error that ends a run: the telemetry events of that run's
    # attempts (answered-then-rejected ones included), so reports still account for them.
    run_events: tuple[Any, ...] = ()


class ConfigError(CtxRouterError):
    """A setting, config file or data file is wrong."""


class InputError(CtxRouterError):
    """A value passed by the user (CLI flag, API argument, input file line) is wrong."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as precisely as we can."""

    path: Path | None
    line: int | None
    field: str | None
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = str(self.path) if self.path else "<input>"
        if self.line is not None:
            where += f":{self.line}"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}:{field} {self.severity}: {self.message}"


class CatalogError(CtxRouterError):
    """Agent definitions could not be loaded. ``problems`` lists every one found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} error(s) in agent definitions:"
        super().__init__("\n".join([head, *(f"  {p}" for p in errors)]))


class UnknownAgentError(CtxRouterError, KeyError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        super().__init__(
            f"unknown agent {name!r}{_hint(name, known)}; `ctxrouter agents list` shows them"
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownModelError(CtxRouterError, KeyError):
    def __init__(self, model: str, known: Iterable[str]) -> None:
        self.model = model
        super().__init__(
            f"unknown model {model!r}{_hint(model, known)}; `ctxrouter models list` shows them"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class PricingError(CtxRouterError):
    """Usage could not be priced."""


class BudgetExceeded(CtxRouterError):
    """A cost budget would be exceeded."""


class ProviderError(CtxRouterError):
    """A model provider failed. One subclass per upstream status; ``retryable`` says whether
    trying the same model again may help.

    ::

        ProviderError
        ├── BadRequestError          400  (not retried)
        ├── AuthenticationError      401  (not retried)
        ├── PermissionDeniedError    403  (not retried)
        ├── NotFoundError            404  (not retried)
        ├── RequestTooLargeError     413  (not retried)
        ├── RateLimitError           429  (retried when the upstream says when: retry-after)
        ├── InternalServerError      500  (retried)
        ├── ServiceUnavailableError  502 / 503 / 504  (retried)
        ├── OverloadedError          529  (retried)
        ├── APITimeoutError          no answer in time (retried)
        ├── APIConnectionError       connection refused or reset (retried)
        └── StreamError              an error event in the middle of a stream
    """

    status: int | None = None
    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: object = None,
        headers: dict[str, str] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        model: str | None = None,
        provider: str | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.body = body
        self.headers = headers or {}
        self.request_id = request_id
        self.retry_after = retry_after
        self.model = model
        self.provider = provider
        self.error_type = error_type

    @property
    def retryable(self) -> bool:
        return self.default_retryable

    @property
    def kind(self) -> str:
        """A short name for telemetry: ``overloaded``, ``rate_limit``, ``timeout``, ..."""
        return _KINDS.get(type(self), "provider_error")


class BadRequestError(ProviderError):
    status = 400


class AuthenticationError(ProviderError):
    status = 401


class PermissionDeniedError(ProviderError):
    status = 403


class NotFoundError(ProviderError):
    status = 404


class RequestTooLargeError(ProviderError):
    status = 413


class RateLimitError(ProviderError):
    """429. Retried only when the upstream says when (``retry-after``): a 429 without it is a
    spend cap or quota, and waiting will not help."""

    status = 429

    @property
    def retryable(self) -> bool:
        return self.retry_after is not None


class InternalServerError(ProviderError):
    status = 500
    default_retryable = True


class ServiceUnavailableError(ProviderError):
    status = 503
    default_retryable = True


class OverloadedError(ProviderError):
    status = 529
    default_retryable = True


class APITimeoutError(ProviderError):
    default_retryable = True


class APIConnectionError(ProviderError):
    default_retryable = True


class StreamError(ProviderError):
    """An ``event: error`` in a stream (before or after its first bytes). Retryable when its
    type is transient; its :attr:`kind` is that of the same error type as an HTTP status
    (``overloaded_error`` is ``overloaded``), so telemetry names it one way."""

    @property
    def retryable(self) -> bool:
        return self.error_type in RETRYABLE_STREAM_ERROR_TYPES

    @property
    def kind(self) -> str:
        status = _STATUS_BY_TYPE.get(self.error_type or "")
        if status is None:
            return "stream_error"
        return _KINDS.get(provider_error_for_status(status), "stream_error")


# The ``error.type`` values of an Anthropic error worth a retry when a stream reports them.
RETRYABLE_STREAM_ERROR_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error"})
# Each Anthropic ``error.type`` and the HTTP status that carries it.
_STATUS_BY_TYPE: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


_KINDS: dict[type[ProviderError], str] = {
    BadRequestError: "bad_request",
    AuthenticationError: "authentication",
    PermissionDeniedError: "permission_denied",
    NotFoundError: "not_found",
    RequestTooLargeError: "request_too_large",
    RateLimitError: "rate_limit",
    InternalServerError: "server_error",
    ServiceUnavailableError: "unavailable",
    OverloadedError: "overloaded",
    APITimeoutError: "timeout",
    APIConnectionError: "connection",
    StreamError: "stream_error",
}

_BY_STATUS: dict[int, type[ProviderError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: RequestTooLargeError,
    429: RateLimitError,
    500: InternalServerError,
    502: ServiceUnavailableError,
    503: ServiceUnavailableError,
    504: ServiceUnavailableError,
    529: OverloadedError,
}


def provider_error_for_status(status: int) -> type[ProviderError]:
    """The :class:`ProviderError` subclass for an HTTP status (5xx not listed: server error)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return InternalServerError if status >= 500 else ProviderError


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


def http_error(
    status: int,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: object = None,
    request_id: str | None = None,
    model: str | None = None,
    provider: str | None = None,
    error_type: str | None = None,
) -> ProviderError:
    """The :class:`ProviderError` for an HTTP error answer, built one way whoever saw it (the
    SDK provider, the simulated one, the gateway): its class by ``status``, ``retry_after``
    from the headers, the request id from them when not given."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return provider_error_for_status(status)(
        message,
        status=status,
        body=body,
        headers=lowered,
        request_id=request_id or lowered.get("request-id"),
        retry_after=parse_retry_after(lowered),
        model=model,
        provider=provider,
        error_type=error_type,
    )


@dataclass(frozen=True)
class Attempt:
    """One try of one model, as :class:`FallbackExhausted` reports it."""

    model: str
    tier: str
    attempt: int
    error: ProviderError | None  # None when the model answered but the answer was rejected
    reason: str = ""

    def __str__(self) -> str:
        cause = f"{type(self.error).__name__}: {self.error}" if self.error else self.reason
        return f"{self.model} (try {self.attempt}): {cause}"


class FallbackExhausted(CtxRouterError):
    """Every model option failed. ``attempts`` lists each try and its cause, in order."""

    def __init__(self, attempts: Sequence[Attempt], *, run_id: str | None = None) -> None:
        self.attempts = list(attempts)
        self.run_id = run_id
        lines = [f"every model option failed after {len(self.attempts)} attempt(s):"]
        lines.extend(f"  {a}" for a in self.attempts)
        super().__init__("\n".join(lines))

    @property
    def last_error(self) -> ProviderError | None:
        return next((a.error for a in reversed(self.attempts) if a.error is not None), None)


class CircuitOpenError(CtxRouterError):
    """A model's circuit breaker is open: it failed too often recently and is being rested."""

    def __init__(self, model: str, retry_in: float) -> None:
        self.model = model
        self.retry_in = retry_in
        super().__init__(f"circuit open for {model}: resting it for {retry_in:.1f}s more")
