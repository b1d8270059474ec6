"""Reading token usage out of Anthropic Messages answers as they pass through the gateway: a
JSON body or an SSE stream.

The stream parser is fed the raw bytes as they pass through the gateway (in chunks that may
split lines or events anywhere) and never changes them. The ``usage`` objects it finds are
read by :mod:`ctxrouter.models.usage`, with the same rules as every other reader:
``message_start`` gives the input and cache counts, ``message_delta`` the output count (newer
API versions repeat the cumulative input and cache counts there, which then win).
"""

from __future__ import annotations

import json
from typing import Any

from ctxrouter.gateway.http import json_object
from ctxrouter.models.usage import StreamEvent, Usage, merge_stream_usage, parse_usage

# the events that carry usage, the end, or an error (an event without a name is read too)
_WANTED = frozenset({b"message_start", b"message_delta", b"message_stop", b"error"})


def usage_from_body(body: bytes) -> Usage | None:
    """The usage of a non-streamed message answer, or ``None`` when it carries none."""
    payload = json_object(body)
    usage = payload.get("usage") if payload is not None else None
    return parse_usage(usage) if isinstance(usage, dict) else None


class StreamUsage:
    """Feed it the SSE bytes of a streamed answer; it keeps the usage and any error event."""

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []
        self._skip = False  # the current event is one whose data we do not need
        self._usage: dict[str, Any] = {}
        self.seen_usage = False
        self.stopped = False  # message_stop arrived
        self.error_type: str | None = None  # from an ``event: error``
        self.response_model: str | None = None  # the model message_start names

    @property
    def usage(self) -> Usage:
        return parse_usage(self._usage)

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self._line(line.rstrip(b"\r"))

    def close(self) -> None:
        """Flush an event the stream did not end with a blank line."""
        if self._buffer:
            self._line(self._buffer.rstrip(b"\r"))
            self._buffer = b""
        self._line(b"")

    def _line(self, line: bytes) -> None:
        if not line:
            if self._data:
                self._event(b"\n".join(self._data))
                self._data = []
            self._skip = False
            return
        if line.startswith(b"event:"):
            # most events are content deltas and pings: their data is not parsed at all
            self._skip = line[6:].strip() not in _WANTED
        elif line.startswith(b"data:") and not self._skip:
            self._data.append(line[5:].removeprefix(b" "))
        # ``id:``, ``retry:`` and comments: nothing to read

    def _event(self, data: bytes) -> None:
        try:
            payload = json.loads(data)
        except ValueError:
            return
        if not isinstance(payload, dict):
            return
        kind = payload.get("type")
        if kind == "message_start":
            message = payload.get("message")
            if isinstance(message, dict):
                model = message.get("model")
                self.response_model = model if isinstance(model, str) else None
                self._merge(message.get("usage"), "message_start")
        elif kind == "message_delta":
            self._merge(payload.get("usage"), "message_delta")
        elif kind == "message_stop":
            self.stopped = True
        elif kind == "error":
            error = payload.get("error")
            found = error.get("type") if isinstance(error, dict) else None
            self.error_type = found if isinstance(found, str) else "error"

    def _merge(self, usage: Any, event: StreamEvent) -> None:
        if isinstance(usage, dict):
            self.seen_usage = True
            self._usage = merge_stream_usage(self._usage, usage, event=event)


__all__ = ["StreamUsage", "usage_from_body"]
