"""``ctxrouter serve``: the gateway, for Claude Code and any Anthropic client
(``ANTHROPIC_BASE_URL=http://127.0.0.1:8787``)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

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

    from ctxrouter.gateway import build_gateway
    from ctxrouter.gateway.keys import KEY_HEADER, KeyRing

    settings = state(ctx).settings
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
    gateway = build_gateway(
        settings, upstream=upstream, agent_dirs=agents or (), override=override, keys=required
    )
    console = stderr()
    for problem in gateway.problems:
        what = "skipped" if problem.severity == "error" else "warning"
        console.print(f"{what}: {problem}", highlight=False, markup=False)
    shown = f"[{host}]" if ":" in host else host
    console.print(
        f"gateway on http://{shown}:{port} -> {gateway.upstream}; {len(gateway.catalog)} agents; "
        f"events to {gateway.store}; dashboard at /dashboard/, metrics at /metrics",
        highlight=False,
        markup=False,
    )
    console.print(
        f"use: ANTHROPIC_BASE_URL=http://{shown}:{port}"
        + (f'  ANTHROPIC_CUSTOM_HEADERS="{KEY_HEADER}: <your key>"' if required else ""),
        highlight=False,
        markup=False,
    )
    # The app flushes the telemetry in its ASGI shutdown: uvicorn re-raises SIGTERM/SIGINT
    # after its graceful shutdown, which would end the process before a `finally` here.
    uvicorn.run(gateway.app, host=host, port=port, log_level="warning", lifespan="on")
