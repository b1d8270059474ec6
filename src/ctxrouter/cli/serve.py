"""``ctxrouter serve``: the gateway, for Claude Code and any Anthropic client
(``ANTHROPIC_BASE_URL=http://127.0.0.1:8787``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ctxrouter.cli.output import guarded, stderr
from ctxrouter.cli.state import state
from ctxrouter.config import OverridePolicy
from ctxrouter.errors import InputError


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
    host: Annotated[
        str, typer.Option(help="Address to listen on; beyond loopback, gateway keys are required.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8787,
    upstream: Annotated[
        str | None, typer.Option(help="The Anthropic API to forward to (gateway.upstream).")
    ] = None,
    agents: Annotated[
        list[Path] | None,
        typer.Option(
            "--agents",
            help="An agent folder to recognise (repeatable), besides the catalog and "
            ".claude/agents here and in ~.",
        ),
    ] = None,
    override: Annotated[
        OverridePolicy | None,
        typer.Option(help="May the gateway replace the model a client asked for?"),
    ] = None,
    require_key: Annotated[
        bool, typer.Option(help="Require a gateway key even on loopback.")
    ] = False,
) -> None:
    """Run the gateway: route every request per the fleet's policy and record it.

    Serves the Anthropic Messages API, Prometheus metrics at /metrics and the dashboard at
    /dashboard/."""
    import uvicorn
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount, Route

    from ctxrouter.dashboard.app import create_app, metrics_route
    from ctxrouter.execution.retry import RetryPolicy
    from ctxrouter.gateway import create_gateway
    from ctxrouter.gateway.agents import gateway_catalog
    from ctxrouter.gateway.keys import KEY_HEADER, KeyRing
    from ctxrouter.routing import Router
    from ctxrouter.telemetry import Recorder, open_store, store_label

    app_state = state(ctx)
    settings = app_state.settings
    gw = settings.gateway
    keys = KeyRing.load(settings.gateway_keys_path)
    if (not is_loopback(host) or require_key) and not keys:
        raise InputError(
            f"--host {host}: a gateway reachable beyond loopback needs gateway keys, and "
            f"{settings.gateway_keys_path} has none; create one with "
            "`ctxrouter keys create --user NAME`"
            if not require_key
            else f"--require-key: {settings.gateway_keys_path} has no gateway keys; create "
            "one with `ctxrouter keys create --user NAME`"
        )
    required = keys if (not is_loopback(host) or require_key) else None
    catalog, problems = gateway_catalog(settings, agents or ())
    console = stderr()
    for problem in problems:
        console.print(f"warning: skipped: {problem}", highlight=False, markup=False)
    registry = app_state.registry()
    router = Router.from_settings(settings, catalog, registry)
    store = open_store(settings)
    recorder = Recorder(store, flush_interval=settings.runtime.flush_interval_s)
    dashboard = create_app(store)
    target = upstream or gw.upstream
    app = create_gateway(
        upstream=target,
        router=router,
        registry=registry,
        sink=recorder.record,
        override=override or gw.override,
        max_body_bytes=gw.max_body_bytes,
        keys=required,
        retry=RetryPolicy(
            max_attempts=gw.retry_max_attempts,
            base_delay_s=settings.runtime.retry_base_delay_s,
            max_delay_s=settings.runtime.retry_max_delay_s,
        ),
        max_retry_wait_s=gw.retry_max_wait_s,
        routes=[
            metrics_route(store),
            Route("/dashboard", lambda request: RedirectResponse("/dashboard/")),
            Mount("/dashboard", dashboard),
        ],
    )
    shown = f"[{host}]" if ":" in host else host
    console.print(
        f"gateway on http://{shown}:{port} -> {target}; {len(catalog)} agents; events to "
        f"{store_label(store)}; "
        f"dashboard at /dashboard/, metrics at /metrics",
        highlight=False,
        markup=False,
    )
    console.print(
        f"use: ANTHROPIC_BASE_URL=http://{shown}:{port}"
        + (f'  ANTHROPIC_CUSTOM_HEADERS="{KEY_HEADER}: <your key>"' if required else ""),
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
