"""Gateway keys on the wire: every request but ``/healthz`` must carry a known key."""

from __future__ import annotations

from typing import Any

from ctxrouter.gateway.http import error_response
from ctxrouter.gateway.keys import KEY_HEADER, KeyRing


class RequireKey:
    """ASGI middleware: every request but ``/healthz`` needs a known ``x-ctxrouter-key``; the
    key's owner is put in ``scope["state"]["gateway_key"]``."""

    def __init__(self, app: Any, keys: KeyRing) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        secret = None
        for name, value in scope["headers"]:
            if name == KEY_HEADER.encode():
                secret = value.decode("latin-1")
        key = self.keys.authenticate(secret)
        if key is None:
            what = "a missing" if secret is None else "an unknown"
            response = error_response(
                401,
                "authentication_error",
                f"{what} gateway key: send a key from `ctxrouter keys create` in {KEY_HEADER}",
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["gateway_key"] = key
        await self.app(scope, receive, send)


__all__ = ["RequireKey"]
