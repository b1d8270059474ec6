"""Model providers: the protocol, the registry, and the built-ins (simulated, anthropic)."""

from ctxrouter.providers.base import CallContext, Message, ModelCall, ModelResponse, Provider
from ctxrouter.providers.registry import available, create_provider

__all__ = [
    "CallContext",
    "Message",
    "ModelCall",
    "ModelResponse",
    "Provider",
    "available",
    "create_provider",
]
