"""Transcript lines shaped like Claude Code 2.1.328's (copied from real runs, trimmed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TS = "2026-11-26T09:24:29.692Z"


def compact(data: Any) -> str:
    """JSON as Claude Code writes it: no spaces (the ``"usage":{`` bytes matter)."""
    return json.dumps(data, separators=(",", ":"))


def usage(
    inp: int = 3,
    out: int = 40,
    five: int = 1200,
    hour: int = 0,
    read: int = 9000,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "input_tokens": inp,
        "cache_creation_input_tokens": five + hour,
        "cache_read_input_tokens": read,
        "output_tokens": out,
        "output_tokens_details": {"thinking_tokens": 0},
        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
        "service_tier": "standard",
        "cache_creation": {"ephemeral_1h_input_tokens": hour, "ephemeral_5m_input_tokens": five},
        "inference_geo": "",
        "iterations": [],
        "speed": "standard",
        "fallback_credit": None,
        **extra,
    }


def assistant(
    mid: str | None = "msg_01",
    rid: str | None = "req_01",
    *,
    model: str | None = "claude-opus-5-5",
    session: str | None = "s-1",
    ts: str = TS,
    side: bool = False,
    agent: str | None = None,
    agent_id: str | None = None,
    tokens: dict[str, Any] | None = None,
    content: list[dict[str, Any]] | None = None,
    uuid: str = "u-a",
    parent: str | None = "u-0",
    **extra: Any,
) -> str:
    """One assistant line (one content block of a response)."""
    message: dict[str, Any] = {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content if content is not None else [{"type": "text", "text": "Done."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": tokens if tokens is not None else usage(),
        "stop_details": None,
    }
    for key, value in (("id", mid), ("model", model)):
        if value is None:
            del message[key]
    line: dict[str, Any] = {"parentUuid": parent, "isSidechain": side, "message": message}
    if agent_id is not None:
        line["agentId"] = agent_id
    line.update({"apiBlockIndex": 0, "requestId": rid, "type": "assistant", "uuid": uuid})
    line.update({"timestamp": ts, "sessionId": session, "version": "2.1.328"})
    if agent is not None:
        line["attributionAgent"] = agent
    if rid is None:
        del line["requestId"]
    if session is None:
        del line["sessionId"]
    line.update(extra)
    return json.dumps(line, separators=(",", ":"))


def user(text: str, *, uuid: str = "u-0", parent: str | None = None, session: str = "s-1") -> str:
    line = {
        "parentUuid": parent,
        "isSidechain": False,
        "type": "user",
        "message": {"role": "user", "content": text},
        "uuid": uuid,
        "timestamp": TS,
        "sessionId": session,
        "version": "2.1.328",
    }
    return json.dumps(line, separators=(",", ":"))


def other(kind: str = "attachment") -> str:
    return json.dumps({"type": kind, "attachment": {"type": "todo_reminder"}, "sessionId": "s-1"})


def write(path: Path, lines: list[str], *, end: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + end, encoding="utf-8")
    return path


def append(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))
