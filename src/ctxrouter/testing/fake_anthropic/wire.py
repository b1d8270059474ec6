"""HTTP/1.1 on asyncio streams, and errors in the Anthropic format.

Just enough of HTTP/1.1 for the fake server to misbehave on purpose: a request line, headers,
a ``Content-Length`` body and keep-alive in; a status line, headers and a body out, or a TCP
reset (:func:`abort`) at any point. A handler raises :class:`Answered` to answer an error at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import socket
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ERROR_TYPES: Mapping[int, tuple[str, str]] = MappingProxyType(
    {
        400: ("invalid_request_error", "Invalid request"),
        401: ("authentication_error", "invalid x-api-key"),
        402: ("billing_error", "Your credit balance is too low"),
        403: ("permission_error", "Your API key does not have permission to use this resource"),
        404: ("not_found_error", "Not found"),
        413: ("request_too_large", "Request exceeds the maximum allowed number of bytes"),
        429: ("rate_limit_error", "Number of requests has exceeded your rate limit"),
        500: ("api_error", "Internal server error"),
        502: ("api_error", "Bad gateway"),
        503: ("api_error", "Service unavailable"),
        504: ("timeout_error", "Request timed out"),
        529: ("overloaded_error", "Overloaded"),
    }
)
HEAD_LIMIT = 64 * 1024  # the longest request head (request line and headers)


class Answered(Exception):
    """Raised by request handlers to answer an error at once."""

    def __init__(self, status: int, error_type: str | None = None, message: str = "") -> None:
        super().__init__(message)
        default_type, default_message = ERROR_TYPES.get(status, ("api_error", "Error"))
        self.status = status
        self.error_type = error_type or default_type
        self.message = message or default_message


@dataclass(frozen=True, slots=True)
class Incoming:
    """One request as read off the connection."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    raw: bytes  # the body
    keep_alive: bool


async def read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> Incoming | None:
    """The next request on the connection; ``None`` when the connection is to be closed (the
    peer closed it, or the request could not be read: it has been answered then)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ", 2)
    except ValueError:
        await send(writer, response(400, [], b""))
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", ""):
        writer.write(response(501, [], b""))
        return None
    length = int(headers.get("content-length") or 0)
    raw = await reader.readexactly(length) if length else b""
    url = urlsplit(target)
    keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    return Incoming(method, url.path, dict(parse_qsl(url.query)), headers, raw, keep_alive)


def retry_after_text(value: float | str) -> str:
    """A ``retry-after`` value: whole seconds without a decimal point, or an HTTP date."""
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def _reason(status: int) -> str:
    if status == 529:
        return "Overloaded"
    with contextlib.suppress(ValueError):
        return http.HTTPStatus(status).phrase
    return "Error"


def head(status: int, headers: Sequence[tuple[str, str]]) -> bytes:
    """A status line and headers, up to the body."""
    lines = [f"HTTP/1.1 {status} {_reason(status)}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def response(status: int, headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    return head(status, [*headers, ("content-length", str(len(body)))]) + body


def json_response(
    status: int, payload: Any, rid: str, extra: Sequence[tuple[str, str]] = ()
) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [("content-type", "application/json"), ("request-id", rid), *extra]
    return response(status, headers, body)


def error_response(
    status: int,
    error_type: str,
    message: str,
    rid: str,
    extra: Sequence[tuple[str, str]] = (),
) -> bytes:
    """An error as the Anthropic API answers it (with ``x-should-retry`` where it would)."""
    payload = {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": rid,
    }
    retry = [("x-should-retry", "true")] if status in (408, 409, 429) or status >= 500 else []
    return json_response(status, payload, rid, [*retry, *extra])


async def sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


async def send(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


def abort(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed upstream or a middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
