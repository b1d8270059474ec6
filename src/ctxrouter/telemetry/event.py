"""The telemetry record: one :class:`Event` per attempt, and :class:`Feedback` per correction."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctxrouter.models.pricing import Usage


class Outcome(StrEnum):
    SUCCESS = "success"  # answered and accepted
    REJECTED = "rejected"  # answered, but a validator or low confidence turned it down
    ERROR = "error"  # the call failed


@dataclass(frozen=True, slots=True)
class Event:
    """One attempt at one model. Text is not stored unless the user opts in: only its size
    and a SHA-256 hash (so identical prompts can be counted without being kept)."""

    event_id: str
    ts: float  # epoch seconds, UTC, when the attempt started
    run_id: str
    agent: str | None
    model: str
    tier: str | None
    outcome: Outcome
    attempt: int = 1  # 1-based, across retries, fallbacks and escalations of one run
    task_id: str | None = None
    pipeline: str | None = None
    step: str | None = None
    category: str | None = None
    provider: str | None = None
    user: str | None = None
    session_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_5m_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float | None = None  # None: unpriced (unknown model or no price that day)
    latency_ms: float | None = None
    ttft_ms: float | None = None
    error_type: str | None = None
    status_code: int | None = None
    escalated_from: str | None = None  # the tier this attempt escalated from
    fallback_from: str | None = None  # the model this attempt fell back from
    experiment_arm: str | None = None
    confidence: float | None = None
    stream: bool = False
    batch: bool = False
    request_id: str | None = None
    prompt_chars: int = 0
    prompt_sha256: str | None = None
    output_chars: int = 0
    output_sha256: str | None = None
    prompt_text: str | None = None  # only with store_text=True
    output_text: str | None = None  # only with store_text=True
    requested_model: str | None = None  # what the client asked for, when routing changed it
    route_reason: str | None = None  # why the router chose ``model`` (gateway rewrites)
    message_id: str | None = None  # the API's message id (``msg_...``), when known
    route_flag: str | None = None  # a client's model kept outside the agent's tiers (gateway)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def usage(self) -> Usage:
        """This attempt's token counts."""
        from ctxrouter.models.pricing import Usage

        return Usage(
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_creation_5m_tokens=self.cache_creation_5m_tokens,
            cache_creation_1h_tokens=self.cache_creation_1h_tokens,
            cache_read_tokens=self.cache_read_tokens,
        )


EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Event))


@dataclass(frozen=True, slots=True)
class Feedback:
    """A correction (or a rating) a person gave on a run's result."""

    feedback_id: str
    ts: float
    run_id: str
    agent: str | None = None
    correction: str | None = None
    rating: int | None = None  # 1..5, optional
    extra: dict[str, Any] = field(default_factory=dict)


def new_id() -> str:
    """A 32-hex-digit id that sorts by creation time (48-bit milliseconds + 80 random bits,
    like UUIDv7): ids written close together land close together in the store's indexes."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
