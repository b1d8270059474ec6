"""Reading token usage out of Anthropic Messages answers: a JSON body or an SSE stream.

The stream parser is fed the raw bytes as they pass through the gateway (in chunks that may
split lines or events anywhere) and never changes them. Usage comes from ``message_start``
(input and cache tokens) and ``message_delta`` (output tokens; newer API versions repeat the
cumulative input and cache counts there, which then win). Cache writes are split 5-minute /
1-hour from ``usage.cache_creation``; without the split every write counts as 5-minute.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ctxrouter.models.pricing import Usage

# the events that carry usage, the end, or an error (an event without a name is read too)
_WANTED = frozenset({b"message_start", b"message_delta", b"message_stop", b"error"})
_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


def usage_from_json(raw: Mapping[str, Any]) -> Usage:
    """Our :class:`Usage` from an API ``usage`` object (missing or null counts are 0)."""

    def count(key: str, source: Mapping[str, Any] = raw) -> int:
        value = source.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    created = count("cache_creation_input_tokens")
    split = raw.get("cache_creation")
    if isinstance(split, Mapping):
        five_min = count("ephemeral_5m_input_tokens", split)
        one_hour = count("ephemeral_1h_input_tokens", split)
    else:
        five_min, one_hour = created, 0
    five_min += max(0, created - five_min - one_hour)  # tokens the split leaves out
    return Usage(
        input_tokens=count("input_tokens"),
        output_tokens=count("output_tokens"),
        cache_creation_5m_tokens=five_min,
        cache_creation_1h_tokens=one_hour,
        cache_read_tokens=count("cache_read_input_tokens"),
    )


def usage_from_body(body: bytes) -> Usage | None:
    """The usage of a non-streamed message answer, or ``None`` when it carries none."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    usage = payload.get("usage") if isinstance(payload, dict) else None
    return usage_from_json(usage) if isinstance(usage, dict) else None


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
        return usage_from_json(self._usage)

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
                self._merge(message.get("usage"), keep_output=False)
        elif kind == "message_delta":
            self._merge(payload.get("usage"), keep_output=True)
        elif kind == "message_stop":
            self.stopped = True
        elif kind == "error":
            error = payload.get("error")
            found = error.get("type") if isinstance(error, dict) else None
            self.error_type = found if isinstance(found, str) else "error"

    def _merge(self, usage: Any, *, keep_output: bool) -> None:
        if not isinstance(usage, dict):
            return
        self.seen_usage = True
        for key, value in usage.items():
            if value is None:
                continue
            if key == "output_tokens" and not keep_output:
                continue  # message_start's output count is a placeholder
            if key in _COUNTS or key == "cache_creation":
                self._usage[key] = value


__all__ = ["StreamUsage", "usage_from_body", "usage_from_json"]
