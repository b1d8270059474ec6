"""An Anthropic-compatible HTTP gateway that routes message requests (see :mod:`.app`)."""

from ctxrouter.gateway.app import create_gateway

__all__ = ["create_gateway"]
