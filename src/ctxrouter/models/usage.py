"""Token usage: the :class:`Usage` of one request, and reading it from Anthropic's answers.

Every reader of the Messages API's ``usage`` object goes through :func:`parse_usage`: the
gateway (JSON bodies, SSE streams) and the Anthropic provider (the SDK's models, dumped with
``model_dump()``). The rules, in one place:

* a missing, null, negative or non-integer count is 0 (``true`` is not a count);
* cache writes are split 5-minute / 1-hour from ``cache_creation``; without that split every
  write counts as 5-minute, and tokens the split leaves out count as 5-minute too.

A streamed answer's usage is assembled by :func:`merge_stream_usage`: ``message_start``
gives the input and cache counts (its output count is a placeholder and is dropped), then
``message_delta`` the output count; newer API versions repeat the cumulative input and cache
counts in ``message_delta``, which then win.

The Claude Code transcript reader keeps its own, ccusage-compatible reader on purpose
(:mod:`ctxrouter.integrations.claude_code.transcripts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeGuard

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

StreamEvent = Literal["message_start", "message_delta"]

# the counts of the API's usage object, and the object that splits the cache writes
_COUNTS = frozenset(
    {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}
)
_SPLIT = "cache_creation"


class Usage(BaseModel):
    """Token counts of one request (or a sum of requests, for display only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_5m_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    cache_read_tokens: int = 0

    @field_validator("*")
    @classmethod
    def _non_negative(cls, value: int, info: ValidationInfo) -> int:
        if value < 0:
            raise ValueError(f"{info.field_name} must be a non-negative token count, got {value}")
        return value

    @property
    def prompt_tokens(self) -> int:
        """Every token of the prompt: input, cache reads and cache writes."""
        return (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_creation_5m_tokens
            + self.cache_creation_1h_tokens
        )

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_5m_tokens=self.cache_creation_5m_tokens + other.cache_creation_5m_tokens,
            cache_creation_1h_tokens=self.cache_creation_1h_tokens + other.cache_creation_1h_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
        )


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _count(source: Mapping[str, Any], key: str) -> int:
    value = source.get(key)
    return value if _is_count(value) and value > 0 else 0


def parse_usage(raw: Mapping[str, Any]) -> Usage:
    """Our :class:`Usage` from the API's ``usage`` object (as JSON, or an SDK model's
    ``model_dump()``), by the rules of the module docstring."""
    created = _count(raw, "cache_creation_input_tokens")
    split = raw.get(_SPLIT)
    if isinstance(split, Mapping):
        five_min = _count(split, "ephemeral_5m_input_tokens")
        one_hour = _count(split, "ephemeral_1h_input_tokens")
    else:
        five_min, one_hour = created, 0
    five_min += max(0, created - five_min - one_hour)  # tokens the split leaves out
    return Usage(
        input_tokens=_count(raw, "input_tokens"),
        output_tokens=_count(raw, "output_tokens"),
        cache_creation_5m_tokens=five_min,
        cache_creation_1h_tokens=one_hour,
        cache_read_tokens=_count(raw, "cache_read_input_tokens"),
    )


def merge_stream_usage(
    so_far: Mapping[str, Any], usage: object, *, event: StreamEvent
) -> dict[str, Any]:
    """The usage object of a stream so far, updated with the ``usage`` of one ``event``
    (anything but a mapping changes nothing). Pure: ``so_far`` is not changed.

    Counts and the ``cache_creation`` split replace the ones before; null and non-integer
    counts are ignored, and so is ``message_start``'s output count (a placeholder).
    """
    merged = dict(so_far)
    if not isinstance(usage, Mapping):
        return merged
    for key, value in usage.items():
        if key == "output_tokens" and event == "message_start":
            continue
        if (key in _COUNTS and _is_count(value)) or (key == _SPLIT and isinstance(value, Mapping)):
            merged[key] = value
    return merged


__all__ = ["StreamEvent", "Usage", "merge_stream_usage", "parse_usage"]
