"""Message requests and their answers: validation as ``/v1/messages`` does it, token counts,
the prompt cache, and the deterministic (or scripted) answer.

The default answer echoes the last user message; input tokens are about a quarter of the
prompt's characters; ``cache_control`` markers are honoured (the first request with a given
prefix writes the cache, later ones read it; no minimum length).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ctxrouter.testing.fake_anthropic.faults import Fault
from ctxrouter.testing.fake_anthropic.wire import Answered

_PER_TURN_BETA = "per-turn-control-"


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer, before it is sent as JSON or as SSE."""

    message_id: str
    model: str
    content: list[dict[str, Any]]
    stop_reason: str
    usage: dict[str, Any]

    def json(self) -> dict[str, Any]:
        """The answer as the Messages API sends it (a ``message`` object)."""
        return {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.content,
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": self.usage,
        }


class Replies:
    """Builds answers: the default or scripted text, the usage, and the prompt cache that
    usage reports (shared by every request; :meth:`reset` forgets it)."""

    def __init__(
        self,
        *,
        ids: Iterator[int],
        reply: str | None = None,
        output_tokens: int | None = None,
    ) -> None:
        self._ids = ids
        self._reply_text = reply
        self._output_tokens = output_tokens
        self._cache: set[str] = set()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._cache.clear()

    def reply(self, body: dict[str, Any], fault: Fault | None) -> Reply:
        """The answer to the (valid) request ``body``, shaped by an ``ok`` or delaying
        ``fault``."""
        number = next(self._ids)
        model = body["model"]
        scripted = fault is not None and fault.kind == "ok"
        text = fault.text if fault and fault.text is not None else self._default_text(body)
        stop_reason = "end_turn"
        if fault is not None and fault.content is not None:
            content = [dict(block) for block in fault.content]
            for index, block in enumerate(content):
                if block.get("type") == "tool_use":
                    block.setdefault("id", f"toolu_fake{number:012x}{index:02d}")
                    block.setdefault("input", {})
                    stop_reason = "tool_use"
        else:
            max_chars = body["max_tokens"] * 4
            if not scripted and len(text) > max_chars:
                text, stop_reason = text[:max_chars], "max_tokens"
            content = [{"type": "text", "text": text}]
        usage = self._usage(body, content)
        if fault is not None and fault.usage is not None:
            for key, value in fault.usage.items():
                if value is None:
                    usage.pop(key, None)
                else:
                    usage[key] = value
        if fault is not None and fault.stop_reason is not None:
            stop_reason = fault.stop_reason
        return Reply(f"msg_fake{number:016x}", model, content, stop_reason, usage)

    def _default_text(self, body: dict[str, Any]) -> str:
        if self._reply_text is not None:
            return self._reply_text
        said = ""
        for message in reversed(body["messages"]):
            if message.get("role") == "user":
                said = " ".join(_block_text(message.get("content")).split())[:200]
                break
        return f"Fake reply from {body['model']}. You said: {said}"

    def _usage(self, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, Any]:
        total = input_tokens(body)
        cached, ttl = _cached_prefix(body)
        created = read = 0
        if cached is not None:
            key, chars = cached
            with self._lock:
                hit = key in self._cache
                self._cache.add(key)
            prefix = min(total, _tokens(chars))
            read, created = (prefix, 0) if hit else (0, prefix)
        out_chars = sum(len(_block_text(block)) for block in content)
        output = self._output_tokens if self._output_tokens is not None else _tokens(out_chars)
        return {
            "input_tokens": total - created - read,
            "output_tokens": output,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": created if ttl != "1h" else 0,
                "ephemeral_1h_input_tokens": created if ttl == "1h" else 0,
            },
        }


def validate(body: Any, *, count_only: bool, betas: str = "") -> None:
    """Raise :class:`Answered` (a 400) where ``/v1/messages`` (or ``count_tokens``) would
    refuse ``body``; ``betas`` is the ``anthropic-beta`` header."""
    if not isinstance(body, dict):
        raise Answered(400, message="The request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise Answered(400, message="model: Field required")
    if not count_only:
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            raise Answered(400, message="max_tokens: Field required")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 0:
            raise Answered(400, message="max_tokens: Input should be a non-negative integer")
        if "stream" in body and not isinstance(body["stream"], bool):
            raise Answered(400, message="stream: Input should be a valid boolean")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise Answered(400, message="messages: Field required (a non-empty list)")
    # Claude Code's per-turn-control beta admits ``role: "system"`` turns (it sends them)
    roles = ("user", "assistant", "system") if _PER_TURN_BETA in betas else ("user", "assistant")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in roles:
            raise Answered(
                400,
                message=f"messages.{index}.role: Input should be {' or '.join(map(repr, roles))}",
            )
        if not isinstance(message.get("content"), str | list):
            raise Answered(400, message=f"messages.{index}.content: Field required")


def input_tokens(body: dict[str, Any]) -> int:
    """The input tokens of a (valid) request: about a quarter of its prompt's characters."""
    return _tokens(sum(len(text) for text, _ in _pieces(body)))


def _block_text(block: Any) -> str:
    """The text a block contributes to a token count."""
    if isinstance(block, str):
        return block
    if isinstance(block, list):
        return "".join(_block_text(item) for item in block)
    if isinstance(block, dict):
        if block.get("type") == "text":
            return str(block.get("text", ""))
        if block.get("type") == "tool_use":
            return json.dumps(block.get("input", {}))
        if block.get("type") == "tool_result":
            return _block_text(block.get("content", ""))
        return json.dumps({k: v for k, v in block.items() if k != "cache_control"})
    return ""


def _pieces(body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The prompt in cache order (tools, system, messages): each piece's text and marker."""
    for tool in body.get("tools") or []:
        yield _block_text(tool), tool.get("cache_control") if isinstance(tool, dict) else None
    system = body.get("system")
    # a new list: the request's own ``system`` list (kept in fake.requests) must not grow
    blocks = (
        [system] if isinstance(system, str) else list(system) if isinstance(system, list) else []
    )
    for message in body.get("messages") or []:
        content = message.get("content")
        blocks.extend([content] if isinstance(content, str) else content)
    for block in blocks:
        yield _block_text(block), block.get("cache_control") if isinstance(block, dict) else None


def _tokens(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


def _cached_prefix(body: dict[str, Any]) -> tuple[tuple[str, int] | None, str]:
    """((cache key, characters) of the prefix up to the last ``cache_control``, ttl)."""
    pieces = list(_pieces(body))
    marked = [i for i, (_, marker) in enumerate(pieces) if isinstance(marker, dict)]
    if isinstance(body.get("cache_control"), dict) and pieces:
        marked.append(len(pieces) - 1)
        marker: Any = body["cache_control"]
    elif marked:
        marker = pieces[marked[-1]][1]
    else:
        return None, "5m"
    prefix = [text for text, _ in pieces[: marked[-1] + 1]]
    digest = hashlib.sha256(json.dumps([body["model"], prefix]).encode()).hexdigest()
    return (digest, sum(len(text) for text in prefix)), str(marker.get("ttl", "5m"))
