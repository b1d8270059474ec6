"""An Anthropic-compatible gateway: routes ``POST /v1/messages`` and forwards everything else.

A client (Claude Code, the official SDK) points its base URL at the gateway. Message requests
are routed (:mod:`~ctxrouter.gateway.messages`); every other path (``count_tokens``,
``/v1/models``, ...) is forwarded untouched. Build one from the settings with
:func:`ctxrouter.gateway.build_gateway` (what ``ctxrouter serve``, the tests and ``bench/``
use); :func:`create_gateway` is the assembly underneath, from parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ctxrouter.config import OverridePolicy
from ctxrouter.execution.attempts import AttemptEngine
from ctxrouter.gateway.attribution import AGENT_HEADER, DEFAULT_AGENT, AgentMatcher, Attributor
from ctxrouter.gateway.auth import RequireKey
from ctxrouter.gateway.http import (
    ALL_METHODS,
    DEFAULT_MAX_BODY_BYTES,
    BodyTooLarge,
    error_response,
    forward_headers,
    healthz,
    path_of,
    read_body,
    response_headers,
)
from ctxrouter.gateway.keys import KeyRing
from ctxrouter.gateway.messages import Messages
from ctxrouter.gateway.upstream import Upstream, UpstreamError
from ctxrouter.routing.router import Router

Task = Callable[[], Coroutine[Any, Any, None]]


def create_gateway(
    *,
    upstream: str,
    router: Router,
    engine: AttemptEngine,
    connect_timeout_s: float = 10.0,
    read_timeout_s: float = 600.0,
    matcher: AgentMatcher | None = None,
    override: OverridePolicy = OverridePolicy.WITHIN_TIERS,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    keys: KeyRing | None = None,
    routes: Sequence[BaseRoute] = (),
    background: Sequence[Task] = (),
    on_close: Sequence[Callable[[], None]] = (),
    seed: int | None = None,
) -> Starlette:
    """The gateway app. ``upstream`` is the API's base URL (``https://api.anthropic.com``).

    ``matcher`` recognises agents by their system prompt (default: the router's catalog).
    ``keys``, when given, makes every route but ``/healthz`` require ``x-ctxrouter-key``.
    ``routes`` are served before the forwarding catch-all (``/metrics``, the dashboard).
    ``background`` tasks run while the app serves; ``on_close`` runs at its shutdown, after
    the upstream connections are closed (flush telemetry there).
    """
    client = Upstream(upstream, connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s)
    messages = Messages(
        upstream=client,
        router=router,
        engine=engine,
        attributor=Attributor(matcher or AgentMatcher(router.catalog.values())),
        override=override,
        max_body_bytes=max_body_bytes,
        rng=random.Random(seed),
    )

    async def passthrough(request: Request) -> Response:
        try:
            content = await read_body(request, max_body_bytes)
        except BodyTooLarge:
            return error_response(413, "request_too_large", "the request body is too large")
        except ClientDisconnect:
            return Response(status_code=499)
        try:
            answer = await client.send(
                request.method, path_of(request), forward_headers(request), content
            )
            body = await answer.read()
        except UpstreamError as exc:
            return error_response(502, "api_error", f"upstream unreachable: {exc.kind}")
        return Response(body, answer.status, headers=response_headers(answer))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(task()) for task in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await client.aclose()
            finally:
                for close in on_close:
                    close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/v1/messages", messages.handle, methods=["POST"]),
            *routes,
            Route("/{path:path}", passthrough, methods=ALL_METHODS),
        ],
        lifespan=lifespan,
    )
    if keys is not None:
        app.add_middleware(RequireKey, keys=keys)
    return app


__all__ = ["AGENT_HEADER", "DEFAULT_AGENT", "create_gateway"]
