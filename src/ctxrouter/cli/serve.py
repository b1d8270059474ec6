"""``ctxrouter serve``: the gateway, for Claude Code and any Anthropic client
(``ANTHROPIC_BASE_URL=http://127.0.0.1:8787``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Annotated, Any

import typer

from ctxrouter.cli.output import guarded, stderr
from ctxrouter.cli.state import state
from ctxrouter.errors import InputError

DEFAULT_UPSTREAM = "https://api.anthropic.com"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@guarded
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback only for now).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8787,
    upstream: Annotated[str, typer.Option(help="The Anthropic API to forward to.")] = (
        DEFAULT_UPSTREAM
    ),
) -> None:
    """Run the gateway: route every request per the fleet's policy and record it."""
    import uvicorn

    from ctxrouter.gateway import create_gateway
    from ctxrouter.routing import Router
    from ctxrouter.telemetry import Recorder, open_store

    if not is_loopback(host):
        raise InputError(
            f"--host {host}: the gateway binds to loopback only until gateway keys exist "
            "(binding elsewhere would expose your API key's spending to the network)"
        )
    app_state = state(ctx)
    settings = app_state.settings
    router = Router.from_settings(settings, app_state.catalog(), app_state.registry())
    store = open_store(settings)
    recorder = Recorder(store, flush_interval=settings.runtime.flush_interval_s)
    app = create_gateway(
        upstream=upstream, router=router, registry=app_state.registry(), sink=recorder.record
    )
    stderr().print(
        f"gateway on http://{host}:{port} -> {upstream}; events to {settings.database_path}; "
        f"use ANTHROPIC_BASE_URL=http://{host}:{port}",
        highlight=False,
        markup=False,
    )

    def close() -> None:
        recorder.close()  # idempotent: flushes what is queued
        store.close()

    try:
        # uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, which would end the
        # process before a `finally` here: flush in the ASGI shutdown instead.
        uvicorn.run(
            CloseOnShutdown(app, close), host=host, port=port, log_level="warning", lifespan="on"
        )
    finally:
        close()


class CloseOnShutdown:
    """ASGI wrapper that answers lifespan events and calls ``close`` at shutdown."""

    def __init__(self, app: Any, close: Callable[[], None]) -> None:
        self.app = app
        self.close = close

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
