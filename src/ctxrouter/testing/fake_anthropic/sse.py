"""A streamed answer: the Messages API's server-sent events, in chunked transfer encoding,
with the faults that strike in the middle of a stream (``event: error``, a reset)."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from ctxrouter.testing.fake_anthropic import wire
from ctxrouter.testing.fake_anthropic.faults import Fault
from ctxrouter.testing.fake_anthropic.messages import Reply


async def stream(
    writer: asyncio.StreamWriter,
    reply: Reply,
    fault: Fault | None,
    rid: str,
    *,
    chunks: int,
    chunk_delay_s: float,
) -> bool:
    """Send ``reply`` as SSE, event by event, each text in ``chunks`` deltas ``chunk_delay_s``
    apart; apply a mid-stream ``fault``. ``False`` when the connection was reset."""
    head = [
        ("content-type", "text/event-stream; charset=utf-8"),
        ("cache-control", "no-cache"),
        ("transfer-encoding", "chunked"),
        ("request-id", rid),
    ]
    writer.write(wire.head(200, head))
    deltas = 0
    for name, data in sse_events(reply, chunks):
        is_delta = name == "content_block_delta"
        # a fault strikes after `after_deltas` deltas, or before the end when there are fewer
        strike = (
            (is_delta and fault is not None and deltas >= fault.after_deltas)
            or name == "message_delta"
            or (name == "message_start" and fault is not None and fault.after_deltas < 0)
        )
        if fault is not None and strike and fault.kind == "reset":
            await writer.drain()
            wire.abort(writer)
            return False
        if fault is not None and strike and fault.kind == "stream_error":
            error = {"type": fault.error_type, "message": fault.message}
            writer.write(_chunk("error", {"type": "error", "error": error}))
            break
        if is_delta:
            deltas += 1
            if chunk_delay_s > 0:
                await writer.drain()
                await asyncio.sleep(chunk_delay_s)
        writer.write(_chunk(name, data))
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


def sse_events(reply: Reply, chunks: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events of a streamed answer, in the order the Messages API sends them."""
    start_usage = {k: v for k, v in reply.usage.items() if k != "output_tokens"}
    message = {**reply.json(), "content": [], "stop_reason": None}
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {**message, "usage": {**start_usage, "output_tokens": 1}},
        },
    )
    for index, block in enumerate(reply.content):
        if block.get("type") == "tool_use":
            start = {**block, "input": {}}
            pieces = [
                ("input_json_delta", "partial_json", p)
                for p in _split(json.dumps(block["input"]), chunks)
            ]
        else:
            start = {"type": "text", "text": ""}
            pieces = [("text_delta", "text", p) for p in _split(str(block.get("text", "")), chunks)]
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
        if index == 0:
            yield "ping", {"type": "ping"}
        for delta_type, field_name, piece in pieces:
            delta = {"type": delta_type, field_name: piece}
            yield (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    ending = {"stop_reason": reply.stop_reason, "stop_sequence": None}
    usage = {"output_tokens": reply.usage.get("output_tokens", 0)}
    yield "message_delta", {"type": "message_delta", "delta": ending, "usage": usage}
    yield "message_stop", {"type": "message_stop"}


def _split(text: str, parts: int) -> list[str]:
    if not text:
        return []
    size = math.ceil(len(text) / min(parts, len(text)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _chunk(event: str, data: Mapping[str, Any]) -> bytes:
    payload = f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(payload), payload)
