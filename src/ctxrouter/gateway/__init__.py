"""An Anthropic-compatible HTTP gateway that routes message requests (see :mod:`.app`).

``create_gateway`` is imported on first use, so the light parts (``agents``, ``attribution``,
``decide``, ``keys``) can be used without loading the HTTP stack (the Claude Code hook does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctxrouter.gateway.app import create_gateway


def __getattr__(name: str) -> Any:
    if name == "create_gateway":
        from ctxrouter.gateway.app import create_gateway

        return create_gateway
    raise AttributeError(f"module 'ctxrouter.gateway' has no attribute {name!r}")


__all__ = ["create_gateway"]
