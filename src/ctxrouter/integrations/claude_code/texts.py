"""The words around a response, read only when the import is asked for text: the answer's text
blocks, and the user turn that led to it (found up the chain of ``parentUuid``)."""

from __future__ import annotations

import json
from collections.abc import Mapping

Turns = Mapping[str, tuple[str | None, str | None]]  # uuid -> (parentUuid, user turn's text)


def block_texts(content: object) -> list[str]:
    """The text blocks of a message's content (a string is one block)."""
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    return [
        block["text"]
        for block in content
        if isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    ]


def user_turn(raw: bytes) -> tuple[str, str | None, str | None] | None:
    """``(uuid, parentUuid, text)`` of a line, for finding a response's prompt: ``text`` is a
    user turn's words (its text blocks, or its tool results' text), ``None`` for other lines.
    ``None`` for a line without a uuid or that is not JSON."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("uuid"), str):
        return None
    parent = data.get("parentUuid")
    text: str | None = None
    message = data.get("message")
    if data.get("type") == "user" and isinstance(message, dict):
        text = "\n".join(_user_texts(message.get("content")))
    return data["uuid"], parent if isinstance(parent, str) else None, text


def _user_texts(content: object) -> list[str]:
    if isinstance(content, str):
        return [content]
    texts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif block.get("type") == "tool_result":
                texts.extend(_user_texts(block.get("content")))
    return texts


def prompt(parent: str | None, turns: Turns) -> str | None:
    """The text of the nearest user turn up the chain of ``parentUuid`` (among the lines read)."""
    for _ in range(1000):  # a chain, not a cycle
        if parent is None or parent not in turns:
            return None
        parent, text = turns[parent]
        if text is not None:
            return text
    return None


__all__ = ["Turns", "block_texts", "prompt", "user_turn"]
