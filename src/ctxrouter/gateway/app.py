"""An Anthropic-compatible gateway: routes ``POST /v1/messages`` and forwards everything else.

A client (Claude Code, the official SDK) points its base URL at the gateway. For each message
request the gateway names the agent (header ``x-ctxrouter-agent``, else ``main``), asks the
router for a model, and rewrites ``model`` only when the agent is in the catalog and the
client's model is of a tier that agent may use; every other field passes through untouched.
Answers, errors included, reach the client as upstream sent them; streams are relayed chunk by
chunk while their usage is read for telemetry. One :class:`Event` per message request goes to
``sink``. Other paths (``count_tokens``, ``/v1/models``, ...) are forwarded untouched.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ctxrouter.gateway.sse import StreamUsage, usage_from_body
from ctxrouter.models.pricing import Usage
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.routing.request import RouteRequest
from ctxrouter.routing.router import Router
from ctxrouter.telemetry.event import Event, Outcome, new_id

log = logging.getLogger(__name__)

AGENT_HEADER = "x-ctxrouter-agent"
DEFAULT_AGENT = "main"
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
)
# answer headers sent back to the client besides content-type
FORWARD_RESPONSE_HEADERS = ("request-id", "retry-after", "x-should-retry")
FORWARD_RESPONSE_PREFIXES = ("anthropic-ratelimit-",)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

Sink = Callable[[Event], None]


def create_gateway(
    *,
    upstream: str,
    router: Router,
    registry: ModelRegistry,
    sink: Sink | None,
    timeout: httpx.Timeout | None = None,
) -> Starlette:
    """The gateway app. ``upstream`` is the API's base URL (``https://api.anthropic.com``)."""
    gateway = _Gateway(
        upstream=upstream.rstrip("/"),
        router=router,
        registry=registry,
        sink=sink,
        timeout=timeout or httpx.Timeout(600.0, connect=10.0),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await gateway.aclose()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/v1/messages", gateway.messages, methods=["POST"]),
        Route("/{path:path}", gateway.passthrough, methods=ALL_METHODS),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def error_response(status: int, error_type: str, message: str) -> JSONResponse:
    """An error in the Anthropic format."""
    payload = {"type": "error", "error": {"type": error_type, "message": message}}
    return JSONResponse(payload, status_code=status)


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


@dataclass(slots=True)
class _Call:
    """What one message request was, for its :class:`Event`."""

    agent: str
    model: str
    stream: bool
    started: float = field(default_factory=time.time)
    started_monotonic: float = field(default_factory=time.perf_counter)


@dataclass(slots=True)
class _Gateway:
    upstream: str
    router: Router
    registry: ModelRegistry
    sink: Sink | None
    timeout: httpx.Timeout
    _client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- routes --------------------------------------------------------------------------

    async def messages(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return error_response(400, "invalid_request_error", f"malformed JSON body: {exc}")
        if not isinstance(body, dict):
            return error_response(400, "invalid_request_error", "the body must be a JSON object")
        agent = request.headers.get(AGENT_HEADER) or DEFAULT_AGENT
        asked = body.get("model")
        model = self.choose_model(agent, body, asked if isinstance(asked, str) else None)
        if model is not None and model != asked:
            body["model"] = model
            raw = json.dumps(body, ensure_ascii=False).encode()
        call = _Call(
            agent=agent,
            model=model or (asked if isinstance(asked, str) else ""),
            stream=body.get("stream") is True,
        )
        upstream_request = self.client.build_request(
            "POST", self.url(request), headers=forward_headers(request), content=raw
        )
        try:
            answer = await self.client.send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            self.record(call, Outcome.ERROR, status=502, error_type=type(exc).__name__)
            return error_response(502, "api_error", f"upstream unreachable: {type(exc).__name__}")
        content_type = answer.headers.get("content-type", "")
        if call.stream and answer.status_code == 200 and "text/event-stream" in content_type:
            return StreamingResponse(
                self.relay(call, answer),
                status_code=answer.status_code,
                headers=response_headers(answer),
            )
        try:
            content = await answer.aread()
        except httpx.HTTPError as exc:
            self.record(call, Outcome.ERROR, status=502, error_type=type(exc).__name__)
            return error_response(502, "api_error", f"upstream failed: {type(exc).__name__}")
        finally:
            await answer.aclose()
        if answer.is_success:
            self.record(
                call,
                Outcome.SUCCESS,
                status=answer.status_code,
                usage=usage_from_body(content),
                request_id=answer.headers.get("request-id"),
            )
        else:
            self.record(
                call,
                Outcome.ERROR,
                status=answer.status_code,
                error_type=error_type_of(content),
                request_id=answer.headers.get("request-id"),
            )
        return Response(content, answer.status_code, headers=response_headers(answer))

    async def passthrough(self, request: Request) -> Response:
        upstream_request = self.client.build_request(
            request.method,
            self.url(request),
            headers=forward_headers(request),
            content=await request.body(),
        )
        try:
            answer = await self.client.send(upstream_request)
        except httpx.HTTPError as exc:
            return error_response(502, "api_error", f"upstream unreachable: {type(exc).__name__}")
        return Response(answer.content, answer.status_code, headers=response_headers(answer))

    # -- helpers -------------------------------------------------------------------------

    def url(self, request: Request) -> str:
        query = request.url.query
        return self.upstream + request.url.path + (f"?{query}" if query else "")

    def choose_model(self, agent: str, body: Mapping[str, Any], asked: str | None) -> str | None:
        """The model to send upstream: the routed one when the agent may use the client's
        model's tier, else the client's own (``None`` when it sent none)."""
        known = agent in self.router.catalog
        decision = self.router.decide(
            RouteRequest(task=last_user_text(body), agent=agent if known else None)
        )
        if not known or asked is None:
            return asked
        info = self.registry.find(asked)
        allowed = self.router.catalog[agent].policy.allowed_tiers
        if info is None or info.tier is None or info.tier not in allowed:
            return asked
        return decision.model

    async def relay(self, call: _Call, answer: httpx.Response) -> AsyncIterator[bytes]:
        """Pass the SSE bytes on as they come, reading usage; record the event at the end
        (before the last chunk reaches the client, so a client that has read the whole
        stream can see the event)."""
        parser = StreamUsage()
        ttft: float | None = None
        failure: str | None = None
        try:
            async for chunk in answer.aiter_bytes():
                if ttft is None:
                    ttft = (time.perf_counter() - call.started_monotonic) * 1000
                parser.feed(chunk)
                yield chunk
            parser.close()
        except httpx.HTTPError as exc:
            failure = type(exc).__name__
            raise
        finally:
            await answer.aclose()
            error_type = failure or parser.error_type
            if error_type is None and not parser.stopped:
                error_type = "incomplete_stream"  # the client went away, or upstream did
            self.record(
                call,
                Outcome.ERROR if error_type else Outcome.SUCCESS,
                status=answer.status_code,
                usage=parser.usage if parser.seen_usage else None,
                error_type=error_type,
                ttft_ms=ttft,
                request_id=answer.headers.get("request-id"),
            )

    def record(
        self,
        call: _Call,
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
        info = self.registry.find(call.model) if call.model else None
        cost: float | None = None
        if usage is not None and call.model:
            day = datetime.fromtimestamp(call.started, UTC).date()
            quoted = self.registry.quote(call.model, usage, day=day).cost
            cost = quoted.total if quoted is not None else None
        usage = usage or Usage()
        event_id = new_id()
        event = Event(
            event_id=event_id,
            ts=call.started,
            run_id=event_id,
            agent=call.agent,
            model=call.model,
            tier=info.tier.value if info is not None and info.tier is not None else None,
            outcome=outcome,
            provider="gateway",
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_5m_tokens=usage.cache_creation_5m_tokens,
            cache_creation_1h_tokens=usage.cache_creation_1h_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cost_usd=cost,
            latency_ms=(time.perf_counter() - call.started_monotonic) * 1000,
            ttft_ms=ttft_ms,
            error_type=error_type,
            status_code=status,
            stream=call.stream,
            request_id=request_id,
        )
        try:
            self.sink(event)
        except Exception:  # telemetry must never break the answer
            log.exception("gateway: the telemetry sink failed on event %s", event_id)


def forward_headers(request: Request) -> dict[str, str]:
    return {
        name: value
        for name in FORWARD_REQUEST_HEADERS
        if (value := request.headers.get(name)) is not None
    }


def response_headers(answer: httpx.Response) -> dict[str, str]:
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


__all__ = ["AGENT_HEADER", "DEFAULT_AGENT", "create_gateway", "error_response", "last_user_text"]
