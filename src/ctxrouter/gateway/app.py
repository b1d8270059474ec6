"""An Anthropic-compatible gateway: routes ``POST /v1/messages`` and forwards everything else.

A client (Claude Code, the official SDK) points its base URL at the gateway. For each message
request the gateway names the agent (:mod:`~ctxrouter.gateway.attribution`), asks the router
for a model and applies it under the override policy (:mod:`~ctxrouter.gateway.decide`); the
choice is made once per Claude Code subagent (its agent id) so a conversation keeps one model.
Every other field of the body passes through untouched.

Failures before the first byte reaches the client (connection errors, 429 with a
``retry-after`` the gateway is willing to wait, 529, 5xx, and a stream whose first event is a
retryable ``event: error``) are retried with backoff, then moved to the agent's fallback
models when the gateway chose the model. Once bytes have gone out, an error event is passed
through as it is: two answers are never spliced. Upstream error bodies reach the client
unchanged. One :class:`Event` per upstream attempt goes to ``sink``, with the usage read from
the JSON body or the SSE stream. Other paths (``count_tokens``, ``/v1/models``, ...) are
forwarded untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ctxrouter.config import OverridePolicy
from ctxrouter.errors import APIConnectionError, ProviderError, provider_error_for_status
from ctxrouter.execution.retry import RetryPolicy
from ctxrouter.gateway.attribution import (
    AGENT_HEADER,
    DEFAULT_AGENT,
    AgentMatcher,
    Attribution,
    Attributor,
)
from ctxrouter.gateway.decide import ModelChoice, adapt_body, choose
from ctxrouter.gateway.keys import KEY_HEADER, GatewayKey, KeyRing
from ctxrouter.gateway.sse import StreamUsage, usage_from_body
from ctxrouter.gateway.upstream import Upstream, UpstreamAnswer, UpstreamError
from ctxrouter.models.pricing import Usage
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.providers.anthropic import parse_retry_after
from ctxrouter.routing.request import RouteRequest
from ctxrouter.routing.router import Router
from ctxrouter.telemetry.event import Event, Outcome, new_id

log = logging.getLogger(__name__)

# request headers sent upstream (credentials are forwarded, never logged)
FORWARD_REQUEST_HEADERS = (
    "anthropic-version",
    "anthropic-beta",
    "anthropic-dangerous-direct-browser-access",
    "x-api-key",
    "authorization",
    "content-type",
    "accept",
    "user-agent",
    "x-claude-code-session-id",
    "x-claude-code-agent-id",
    "x-claude-code-parent-agent-id",
)
# answer headers sent back to the client besides content-type
FORWARD_RESPONSE_HEADERS = ("request-id", "retry-after", "retry-after-ms", "x-should-retry")
FORWARD_RESPONSE_PREFIXES = ("anthropic-ratelimit-",)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
RETRYABLE_STREAM_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # the Messages API's own limit
CHOICE_CACHE_SIZE = 4096

Sink = Callable[[Event], None]


def create_gateway(
    *,
    upstream: str,
    router: Router,
    registry: ModelRegistry,
    sink: Sink | None,
    connect_timeout_s: float = 10.0,
    read_timeout_s: float = 600.0,
    matcher: AgentMatcher | None = None,
    override: OverridePolicy = OverridePolicy.WITHIN_TIERS,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    keys: KeyRing | None = None,
    retry: RetryPolicy | None = None,
    max_retry_wait_s: float = 30.0,
    routes: Sequence[BaseRoute] = (),
    seed: int | None = None,
) -> Starlette:
    """The gateway app. ``upstream`` is the API's base URL (``https://api.anthropic.com``).

    ``matcher`` recognises agents by their system prompt (default: the router's catalog).
    ``keys``, when given, makes every route but ``/healthz`` require ``x-ctxrouter-key``.
    ``routes`` are served before the forwarding catch-all (``/metrics``, the dashboard).
    """
    gateway = _Gateway(
        upstream=Upstream(
            upstream, connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s
        ),
        router=router,
        registry=registry,
        sink=sink,
        attributor=Attributor(matcher or AgentMatcher(router.catalog.values())),
        override=override,
        max_body_bytes=max_body_bytes,
        keys=keys,
        retry=retry or RetryPolicy(),
        max_retry_wait_s=max_retry_wait_s,
        rng=random.Random(seed),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await gateway.aclose()

    all_routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/v1/messages", gateway.messages, methods=["POST"]),
        *routes,
        Route("/{path:path}", gateway.passthrough, methods=ALL_METHODS),
    ]
    app = Starlette(routes=all_routes, lifespan=lifespan)
    if keys is not None:
        app.add_middleware(RequireKey, keys=keys)
    return app


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def error_response(
    status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An error in the Anthropic format."""
    payload = {"type": "error", "error": {"type": error_type, "message": message}}
    return JSONResponse(payload, status_code=status, headers=dict(headers or {}))


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


def last_user_text(body: Mapping[str, Any]) -> str:
    """The text of the last user message that has any (what routing reads)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            text = content
        elif isinstance(content, list):
            text = "\n".join(
                str(block.get("text", ""))
                for block in content
                if isinstance(block, dict) and block.get("type") == "text"
            )
        else:
            continue
        if text.strip():
            return text
    return ""


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes (declared or actually sent)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(slots=True)
class _Call:
    """One message request: who, what was asked, what was chosen; for its events."""

    who: Attribution
    asked: str
    choice: ModelChoice
    stream: bool
    user: str | None
    run_id: str = field(default_factory=new_id)
    attempts: int = 0


@dataclass(slots=True)
class _Attempt:
    call: _Call
    model: str
    fallback_from: str | None
    started: float = field(default_factory=time.time)
    started_monotonic: float = field(default_factory=time.perf_counter)


@dataclass(slots=True)
class _Gateway:
    upstream: Upstream
    router: Router
    registry: ModelRegistry
    sink: Sink | None
    attributor: Attributor
    override: OverridePolicy
    max_body_bytes: int
    keys: KeyRing | None
    retry: RetryPolicy
    max_retry_wait_s: float
    rng: random.Random
    _choices: OrderedDict[str, ModelChoice] = field(default_factory=OrderedDict)

    async def aclose(self) -> None:
        await self.upstream.aclose()

    # -- routes --------------------------------------------------------------------------

    async def messages(self, request: Request) -> Response:
        try:
            raw = await read_body(request, self.max_body_bytes)
        except BodyTooLarge:
            return error_response(
                413,
                "request_too_large",
                f"the request body is larger than the gateway's limit of "
                f"{self.max_body_bytes} bytes (gateway.max_body_bytes)",
            )
        except ClientDisconnect:
            return Response(status_code=499)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return error_response(400, "invalid_request_error", f"malformed JSON body: {exc}")
        if not isinstance(body, dict):
            return error_response(400, "invalid_request_error", "the body must be a JSON object")
        asked = body.get("model")
        if not isinstance(asked, str) or not asked:
            return error_response(400, "invalid_request_error", "model: Field required")
        who = self.attributor.attribute(request.headers, body)
        key: GatewayKey | None = request.scope.get("state", {}).get("gateway_key")
        choice = self.choose_model(who, body, asked, key.user if key is not None else None)
        call = _Call(
            who=who,
            asked=asked,
            choice=choice,
            stream=body.get("stream") is True,
            user=key.user if key is not None else None,
        )
        return await self.send_with_retries(request, call, body, raw)

    async def passthrough(self, request: Request) -> Response:
        try:
            content = await read_body(request, self.max_body_bytes)
        except BodyTooLarge:
            return error_response(413, "request_too_large", "the request body is too large")
        except ClientDisconnect:
            return Response(status_code=499)
        try:
            answer = await self.upstream.send(
                request.method, path_of(request), forward_headers(request), content
            )
            body = await answer.read()
        except UpstreamError as exc:
            return error_response(502, "api_error", f"upstream unreachable: {exc.kind}")
        return Response(body, answer.status, headers=response_headers(answer))

    # -- choosing ------------------------------------------------------------------------

    def choose_model(
        self, who: Attribution, body: Mapping[str, Any], asked: str, user: str | None = None
    ) -> ModelChoice:
        """The model for this request; a Claude Code subagent keeps its first choice.
        ``user`` (the gateway key's owner) is there for stages that budget per user."""
        cache_key = f"{who.agent_id}:{asked}" if who.agent_id is not None else None
        if cache_key is not None and (cached := self._choices.get(cache_key)) is not None:
            self._choices.move_to_end(cache_key)
            return cached
        agent = self.router.catalog.get(who.agent) if who.agent != DEFAULT_AGENT else None
        decision = (
            self.router.decide(
                RouteRequest(
                    task=last_user_text(body),
                    agent=agent.name,
                    user=user,
                    task_id=who.agent_id,
                )
            )
            if agent is not None
            else None
        )
        choice = choose(
            agent=agent,
            asked=asked,
            decision=decision,
            registry=self.registry,
            override=self.override,
            tier_models=self.router.tier_models,
        )
        if cache_key is not None:
            self._choices[cache_key] = choice
            if len(self._choices) > CHOICE_CACHE_SIZE:
                self._choices.popitem(last=False)
        return choice

    # -- sending -------------------------------------------------------------------------

    async def send_with_retries(
        self, request: Request, call: _Call, body: dict[str, Any], raw: bytes
    ) -> Response:
        options = [call.choice.model, *call.choice.fallbacks]
        headers = forward_headers(request)
        url = path_of(request)
        for index, model in enumerate(options):
            last_option = index == len(options) - 1
            payload = raw
            if model != call.asked:
                payload = json.dumps(
                    adapt_body({**body, "model": model}, self.registry.find(model)),
                    ensure_ascii=False,
                ).encode()
            for attempt_on_model in range(1, self.retry.max_attempts + 1):
                attempt = _Attempt(call, model, options[index - 1] if index else None)
                call.attempts += 1
                last_try = last_option and attempt_on_model == self.retry.max_attempts
                outcome = await self.try_once(attempt, url, headers, payload, final=last_try)
                if isinstance(outcome, Response):
                    return outcome
                error, answer = outcome
                too_long = (
                    error.retry_after is not None and error.retry_after > self.max_retry_wait_s
                )
                if last_try or (too_long and last_option):
                    return answer
                if too_long or attempt_on_model == self.retry.max_attempts:
                    break  # on to the next model
                await asyncio.sleep(self._delay(attempt_on_model, error))
        raise AssertionError("unreachable: the last option always answers")  # pragma: no cover

    def _delay(self, attempt: int, error: ProviderError) -> float:
        return min(self.retry.delay(attempt, error, self.rng), self.max_retry_wait_s)

    async def try_once(
        self,
        attempt: _Attempt,
        url: str,
        headers: dict[str, str],
        payload: bytes,
        *,
        final: bool,
    ) -> Response | tuple[ProviderError, Response]:
        """One upstream try. A :class:`Response` is the answer for the client; a retryable
        failure comes back as ``(error, the response the client gets if we give up)``."""
        try:
            answer = await self.upstream.send("POST", url, headers, payload)
        except UpstreamError as exc:
            self.record(attempt, Outcome.ERROR, status=502, error_type=exc.kind)
            failed = error_response(502, "api_error", f"upstream unreachable: {exc.kind}")
            return APIConnectionError(exc.kind), failed
        content_type = answer.headers.get("content-type", "")
        streamed = answer.status == 200 and "text/event-stream" in content_type
        if attempt.call.stream and streamed:
            return await self.start_stream(attempt, answer, final=final)
        try:
            content = await answer.read()
        except UpstreamError as exc:
            self.record(attempt, Outcome.ERROR, status=502, error_type=exc.kind)
            failed = error_response(502, "api_error", f"upstream failed: {exc.kind}")
            return APIConnectionError(exc.kind), failed
        passed = Response(content, answer.status, headers=response_headers(answer))
        request_id = answer.headers.get("request-id")
        if answer.is_success:
            usage = usage_from_body(content)
            self.record(attempt, Outcome.SUCCESS, status=200, usage=usage, request_id=request_id)
            return passed
        error_type = error_type_of(content)
        self.record(
            attempt,
            Outcome.ERROR,
            status=answer.status,
            error_type=error_type,
            request_id=request_id,
        )
        error = provider_error_for_status(answer.status)(
            error_type or f"HTTP {answer.status}",
            status=answer.status,
            retry_after=parse_retry_after(answer.headers),
        )
        return (error, passed) if error.retryable else passed

    async def start_stream(
        self, attempt: _Attempt, answer: UpstreamAnswer, *, final: bool
    ) -> Response | tuple[ProviderError, Response]:
        """Read the stream's first chunk before anything reaches the client: a stream that
        opens with a retryable ``event: error`` can still be retried."""
        parser = StreamUsage()
        chunks = answer.chunks()
        try:
            first = await anext(chunks, b"")
        except UpstreamError as exc:
            answer.close()
            self.record(attempt, Outcome.ERROR, status=502, error_type=exc.kind)
            failed = error_response(502, "api_error", f"upstream failed: {exc.kind}")
            return APIConnectionError(exc.kind), failed
        ttft = (time.perf_counter() - attempt.started_monotonic) * 1000
        parser.feed(first)
        if (
            not final
            and parser.error_type in RETRYABLE_STREAM_ERRORS
            and parser.response_model is None
        ):
            answer.close()
            self.record(
                attempt,
                Outcome.ERROR,
                status=200,
                error_type=parser.error_type,
                ttft_ms=ttft,
                request_id=answer.headers.get("request-id"),
            )
            status = 529 if parser.error_type == "overloaded_error" else 500
            error = provider_error_for_status(status)(parser.error_type, status=status)
            return error, Response(status_code=status)  # never used: not the final try
        return StreamingResponse(
            self.relay(attempt, answer, parser, first, chunks, ttft),
            status_code=answer.status,
            headers=response_headers(answer),
        )

    async def relay(
        self,
        attempt: _Attempt,
        answer: UpstreamAnswer,
        parser: StreamUsage,
        first: bytes,
        rest: AsyncIterator[bytes],
        ttft: float,
    ) -> AsyncIterator[bytes]:
        """Pass the SSE bytes on as they come, reading usage. The event is recorded as soon
        as the stream's last event (``message_stop`` or ``error``) has been read, before
        that chunk goes out, so a client that has read the whole stream can see it; a
        stream cut short is recorded when it ends."""
        recorded = False

        def finish(failure: str | None = None) -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            error_type = failure or parser.error_type
            if error_type is None and not parser.stopped:
                error_type = "incomplete_stream"  # the client went away, or upstream did
            self.record(
                attempt,
                Outcome.ERROR if error_type else Outcome.SUCCESS,
                status=answer.status,
                usage=parser.usage if parser.seen_usage else None,
                error_type=error_type,
                ttft_ms=ttft,
                request_id=answer.headers.get("request-id"),
            )

        try:
            chunk = first
            while True:
                if parser.stopped or parser.error_type is not None:
                    finish()
                if chunk:
                    yield chunk
                next_chunk = await anext(rest, None)
                if next_chunk is None:
                    break
                chunk = next_chunk
                parser.feed(chunk)
            parser.close()
        except UpstreamError as exc:
            finish(exc.kind)
            raise
        finally:
            answer.close()
            finish()

    # -- helpers -------------------------------------------------------------------------

    def record(
        self,
        attempt: _Attempt,
        outcome: Outcome,
        *,
        status: int,
        usage: Usage | None = None,
        error_type: str | None = None,
        ttft_ms: float | None = None,
        request_id: str | None = None,
    ) -> None:
        if self.sink is None:
            return
        call = attempt.call
        info = self.registry.find(attempt.model)
        cost: float | None = None
        if usage is not None:
            day = datetime.fromtimestamp(attempt.started, UTC).date()
            quoted = self.registry.quote(attempt.model, usage, day=day).cost
            cost = quoted.total if quoted is not None else None
        usage = usage or Usage()
        agent = self.router.catalog.get(call.who.agent)
        event = Event(
            event_id=new_id(),
            ts=attempt.started,
            run_id=call.run_id,
            agent=call.who.agent,
            model=attempt.model,
            tier=info.tier.value if info is not None and info.tier is not None else None,
            outcome=outcome,
            attempt=call.attempts,
            category=agent.category or None if agent is not None else None,
            provider="gateway",
            user=call.user,
            session_id=call.who.session_id,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_5m_tokens=usage.cache_creation_5m_tokens,
            cache_creation_1h_tokens=usage.cache_creation_1h_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cost_usd=cost,
            latency_ms=(time.perf_counter() - attempt.started_monotonic) * 1000,
            ttft_ms=ttft_ms,
            error_type=error_type,
            status_code=status,
            fallback_from=attempt.fallback_from,
            stream=call.stream,
            request_id=request_id,
            requested_model=call.asked if attempt.model != call.asked else None,
            route_reason=call.choice.reason,
        )
        try:
            self.sink(event)
        except Exception:  # telemetry must never break the answer
            log.exception("gateway: the telemetry sink failed on event %s", event.event_id)


def forward_headers(request: Request) -> dict[str, str]:
    return {
        name: value
        for name in FORWARD_REQUEST_HEADERS
        if (value := request.headers.get(name)) is not None
    }


def path_of(request: Request) -> str:
    """The request's path and query, as the upstream gets them."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def response_headers(answer: UpstreamAnswer) -> dict[str, str]:
    headers = {
        name: value
        for name, value in answer.headers.items()
        if name in FORWARD_RESPONSE_HEADERS or name.startswith(FORWARD_RESPONSE_PREFIXES)
    }
    if "content-type" in answer.headers:
        headers["content-type"] = answer.headers["content-type"]
    return headers


def error_type_of(content: bytes) -> str | None:
    """``error.type`` of an Anthropic error body, if it is one."""
    try:
        payload = json.loads(content)
    except ValueError:
        return None
    error = payload.get("error") if isinstance(payload, dict) else None
    found = error.get("type") if isinstance(error, dict) else None
    return found if isinstance(found, str) else None


__all__ = [
    "AGENT_HEADER",
    "DEFAULT_AGENT",
    "create_gateway",
    "error_response",
    "last_user_text",
]
