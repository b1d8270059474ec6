"""Reading usage from SSE bytes, however the network splits them."""

from __future__ import annotations

import json

import pytest

from ctxrouter.gateway.sse import StreamUsage, usage_from_body
from ctxrouter.models.usage import Usage


def _event(name: str, data: dict[str, object]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


STREAM = b"".join(
    [
        _event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "model": "claude-haiku-5-5",
                    "usage": {
                        "input_tokens": 12,
                        "output_tokens": 1,
                        "cache_creation_input_tokens": 30,
                        "cache_read_input_tokens": 7,
                        "cache_creation": {
                            "ephemeral_5m_input_tokens": 10,
                            "ephemeral_1h_input_tokens": 20,
                        },
                    },
                },
            },
        ),
        b": a comment\r\n\r\n",
        _event("ping", {"type": "ping"}),
        _event(
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"text": "hi\n\nthere"}},
        ),
        _event("message_delta", {"type": "message_delta", "usage": {"output_tokens": 42}}),
        _event("message_stop", {"type": "message_stop"}),
    ]
)
EXPECTED = Usage(
    input_tokens=12,
    output_tokens=42,
    cache_creation_5m_tokens=10,
    cache_creation_1h_tokens=20,
    cache_read_tokens=7,
)


@pytest.mark.parametrize("size", [1, 3, 17, 64, len(STREAM)])
def test_usage_whatever_the_chunk_size(size: int) -> None:
    parser = StreamUsage()
    for start in range(0, len(STREAM), size):
        parser.feed(STREAM[start : start + size])
    parser.close()
    assert parser.usage == EXPECTED
    assert parser.stopped
    assert parser.error_type is None
    assert parser.response_model == "claude-haiku-5-5"


def test_error_event_is_kept() -> None:
    parser = StreamUsage()
    parser.feed(_event("error", {"type": "error", "error": {"type": "overloaded_error"}}))
    parser.close()
    assert parser.error_type == "overloaded_error"
    assert not parser.stopped


def test_cumulative_counts_in_message_delta_win() -> None:
    usage = {"output_tokens": 42, "input_tokens": 15, "cache_read_input_tokens": None}
    newer = STREAM.replace(
        _event("message_delta", {"type": "message_delta", "usage": {"output_tokens": 42}}),
        _event("message_delta", {"type": "message_delta", "usage": usage}),
    )
    assert newer != STREAM
    parser = StreamUsage()
    parser.feed(newer)
    parser.close()
    # input from message_delta; a null count there keeps message_start's
    assert parser.usage == EXPECTED.model_copy(update={"input_tokens": 15})


def test_usage_from_body() -> None:
    assert usage_from_body(b'{"usage": {"input_tokens": 3, "output_tokens": 4}}') == Usage(
        input_tokens=3, output_tokens=4
    )
    assert usage_from_body(b"not json") is None
    assert usage_from_body(b'{"type": "error"}') is None


def test_only_the_events_that_matter_are_parsed() -> None:
    parser = StreamUsage()
    # a delta's data is never read, even when it looks like the end of the stream
    parser.feed(b'event: content_block_delta\ndata: {"type": "message_stop"}\n\n')
    parser.feed(b"event: ping\ndata: not even JSON\n\n")
    assert not parser.stopped
    # an event without a name is read by its data's type
    parser.feed(b'data: {"type": "message_stop"}\n\n')
    assert parser.stopped
