"""The Anthropic provider, through the official SDK, by job:

* :mod:`~ctxrouter.providers.anthropic.provider`: :class:`AnthropicProvider`, the SDK client,
  one call (:meth:`~AnthropicProvider.complete`) or a Message Batch
  (:meth:`~AnthropicProvider.run_batch`);
* :mod:`~ctxrouter.providers.anthropic.messages`: the request body of a call, and the answer
  read back from a whole message or a stream (usage by :mod:`ctxrouter.models.usage`);
* :mod:`~ctxrouter.providers.anthropic.batches`: batch requests and each request's result;
* :mod:`~ctxrouter.providers.anthropic.errors`: SDK exceptions as
  :class:`~ctxrouter.errors.ProviderError` subclasses, and ``retry-after``.
"""

from ctxrouter.errors import parse_retry_after
from ctxrouter.providers.anthropic.errors import provider_error_from_sdk
from ctxrouter.providers.anthropic.messages import usage_from_sdk
from ctxrouter.providers.anthropic.provider import DEFAULT_TIMEOUT_S, AnthropicProvider

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "AnthropicProvider",
    "parse_retry_after",
    "provider_error_from_sdk",
    "usage_from_sdk",
]
