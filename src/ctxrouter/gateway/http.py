"""HTTP plumbing the gateway's routes share: headers forwarded each way, bodies read with a
limit, errors in the Anthropic format. No routing, no telemetry."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ctxrouter.errors import ProviderError
from ctxrouter.gateway.upstream import UpstreamAnswer

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
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # the Messages API's own limit


def error_response(
    status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An error in the Anthropic format."""
    payload = {"type": "error", "error": {"type": error_type, "message": message}}
    return JSONResponse(payload, status_code=status, headers=dict(headers or {}))


def client_response(error: ProviderError) -> Response:
    """What the client gets for an upstream failure the gateway gives up on: the upstream's
    own answer when there was one (body and headers unchanged), else a 502."""
    if isinstance(error.body, bytes) and error.status is not None:
        return Response(error.body, error.status, headers=error.headers)
    return error_response(502, "api_error", f"upstream failed: {error}")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


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


def json_object(content: bytes) -> dict[str, Any] | None:
    """``content`` parsed as a JSON object, or ``None`` when it is not one."""
    try:
        payload = json.loads(content)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def error_type_of(content: bytes) -> str | None:
    """``error.type`` of an Anthropic error body, if it is one."""
    payload = json_object(content)
    error = payload.get("error") if payload is not None else None
    found = error.get("type") if isinstance(error, dict) else None
    return found if isinstance(found, str) else None


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


__all__ = [
    "ALL_METHODS",
    "DEFAULT_MAX_BODY_BYTES",
    "BodyTooLarge",
    "client_response",
    "error_response",
    "error_type_of",
    "forward_headers",
    "healthz",
    "json_object",
    "last_user_text",
    "path_of",
    "read_body",
    "response_headers",
]
