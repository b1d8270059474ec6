"""An Anthropic-compatible HTTP gateway that routes message requests.

``build_gateway`` (the gateway from the settings) and ``create_gateway`` (from parts) are
imported on first use, so the light parts (``attribution``, ``decide``, ``keys``) can be used
without loading the HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctxrouter.gateway.app import create_gateway
    from ctxrouter.gateway.build import Gateway, build_gateway


def __getattr__(name: str) -> Any:
    if name == "create_gateway":
        from ctxrouter.gateway.app import create_gateway

        return create_gateway
    if name in ("build_gateway", "Gateway"):
        from ctxrouter.gateway import build

        return getattr(build, name)
    raise AttributeError(f"module 'ctxrouter.gateway' has no attribute {name!r}")


__all__ = ["Gateway", "build_gateway", "create_gateway"]
