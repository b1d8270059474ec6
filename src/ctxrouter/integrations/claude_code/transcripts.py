"""Claude Code transcripts, line by line: which lines report an API response, with its ids,
model, token usage and who made it. Pure: bytes in, :mod:`.responses` out (:mod:`.reader`
reads the files, :mod:`.schema` checks the fields, :mod:`.projects` names the paths).

Facts read off Claude Code 2.1.328 (``~/.claude/projects``):

- the main conversation is ``<project>/<session>.jsonl``, its lines ``isSidechain: false``;
  a subagent's is ``<project>/<session>/subagents/agent-<id>.jsonl``, every line
  ``isSidechain: true`` with ``agentId``, and its assistant lines carry ``attributionAgent``
  (the agent's name); ``agent-<id>.meta.json`` beside it holds ``agentType``, ``spawnDepth``
  and the resolved ``model``;
- an assistant line carries ``message.id``, ``message.model``, ``message.usage`` (input,
  output, cache writes split 5m / 1h under ``usage.cache_creation``, cache reads),
  ``requestId``, ``timestamp`` (``2026-11-26T09:24:29.692Z``), ``sessionId`` and ``version``;
- one API response is written as one line per content block, and each line repeats the
  response's full usage: counted once per response (see :mod:`.dedupe`);
- Claude Code writes lines of its own with ``model: "<synthetic>"`` (an API error shown in
  the conversation, an interrupted turn) and zero usage: they are not API responses.

Which lines count, and how, follows ccusage 20.0.24 (``ccusage daily``), read off its behaviour
line by line, so that both report the same tokens for the same transcripts:

- only a line holding the bytes ``"usage":{`` can report usage (Claude Code writes compact
  JSON); a line that is not JSON is broken;
- its fields must have their types: ``timestamp`` an RFC 3339 time with seconds, optional
  milliseconds (three digits) and an offset; ``message.usage.input_tokens`` and
  ``output_tokens`` non-negative integers, the other counts too when present; ``sessionId``,
  ``requestId``, ``version``, ``message.id`` and ``message.model`` strings when present, not
  empty, not ``null``; ``version`` starts like ``2.1.3``;
- cache writes are ``usage.cache_creation``'s 5m + 1h when that object is there, else
  ``usage.cache_creation_input_tokens`` (taken as 5-minute writes);
- ``usage.iterations`` entries of type ``advisor_message`` are responses of their own (the
  advisor model's), with the message id ``<id>:advisor:<n>``;
- an older layout, ``{"type": "progress", "data": {"message": {...}}}`` (a subagent's
  response copied into its parent's transcript), is read from ``data.message``.

One deliberate difference: ccusage drops a line when the bytes ``"id":null`` (or ``model``,
``cwd``, ... ``:null``) appear *anywhere* in it, tool inputs included; here only those fields
themselves are checked, so a response whose tool call carries such a value still counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from ctxrouter.integrations.claude_code.responses import (
    COPY,
    SYNTHETIC,
    Copy,
    Response,
    Skip,
)
from ctxrouter.integrations.claude_code.schema import counts, entry
from ctxrouter.integrations.claude_code.texts import block_texts

USAGE_MARKER: Final = b'"usage":{'
SYNTHETIC_MODEL: Final = "<synthetic>"

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?(?:Z|[+-]\d{2}:\d{2})")
_SEMVER_PREFIX = re.compile(r"\d+\.\d+\.\d")
_SPEEDS: Final = frozenset(("standard", "fast"))
_BOM: Final = b"\xef\xbb\xbf"


def _json_loads() -> Callable[[bytes], Any]:
    """jiter (Rust, comes with the anthropic SDK) when it is there: twice as fast as json;
    like ccusage, it refuses a key given twice and NaN."""
    try:
        from jiter import from_json
    except ImportError:  # pragma: no cover - anthropic depends on jiter
        return json.loads

    def loads(raw: bytes) -> Any:
        return from_json(raw, allow_inf_nan=False, cache_mode="keys", catch_duplicate_keys=True)

    return loads


_loads: Final = _json_loads()


def looks_like_json_object(raw: bytes) -> bool:
    """The cheap check for lines that report no usage (they are not parsed): a JSON object
    starts with ``{`` and ends with ``}``. Catches what breaks lines in practice: a write cut
    short, two lines run together, garbage."""
    stripped = raw.strip()
    return stripped.startswith(b"{") and stripped.endswith(b"}")


class LineParser:
    """Reads the lines of one transcript, in order.

    Claude Code writes a response as one line per content block, each repeating the same
    usage: a line whose message id, request id, model, session, sidechain flag and usage
    equal the previous response line's is a :data:`COPY`, known without validating it again
    (it changes nothing: the dedupe keeps the first of equal copies). Not when text is asked
    for: each copy then brings its own block's text.
    """

    def __init__(self, session_id: str, *, with_text: bool = False) -> None:
        self.session_id = session_id  # the session of the file's path
        self.with_text = with_text
        self._last: tuple[Any, ...] | None = None

    def parse(self, raw: bytes, line: int) -> tuple[Response, ...] | Skip | Copy | None:
        """The responses a line reports (the response, then any advisor's), :data:`COPY`, a
        :class:`Skip` saying why it reports none although it looks like it should, or
        ``None`` for a line that is not about usage (a user turn, an attachment...) or blank."""
        if USAGE_MARKER not in raw:
            if (raw[:1] == b"{" and raw[-1:] == b"}") or looks_like_json_object(raw):
                return None
            return None if not raw.strip() else Skip("broken JSON", "not a JSON object")
        if raw.startswith(_BOM):  # JSON Lines (and ccusage) take no byte order mark
            return Skip("broken JSON", "starts with a byte order mark")
        try:
            data = _loads(raw)
        except ValueError as exc:  # not JSON, not UTF-8, or a key given twice
            return Skip("broken JSON", str(exc))
        if type(data) is not dict:
            return Skip("broken JSON", "not a JSON object")
        same: tuple[Any, ...] | None = None
        message = data.get("message")
        if type(message) is dict and not self.with_text:
            same = (
                data.get("requestId"),
                message.get("id"),
                message.get("model"),
                data.get("sessionId"),
                data.get("isSidechain"),
                message.get("usage"),
            )
            if same[0] is not None and same[1] is not None and same == self._last:
                return COPY
        objects = entry(data)
        if objects is None or isinstance(objects, Skip):
            return objects  # None: the bytes were elsewhere (a tool's result quoting a usage)
        top, message, usage = objects
        response = _response(top, message, usage, line=line, session_id=self.session_id)
        if isinstance(response, Skip):
            self._last = None
            return response
        self._last = same if top is data else None
        if self.with_text:
            response.texts = block_texts(message.get("content"))
            parent = top.get("parentUuid")
            response.parent_uuid = parent if isinstance(parent, str) else None
        advisors = _advisors(usage, response) if b'"advisor_message"' in raw else ()
        if response.model == SYNTHETIC_MODEL:
            return advisors or SYNTHETIC
        return (response, *advisors)


def parse_line(
    raw: bytes, *, line: int, session_id: str, with_text: bool = False
) -> tuple[Response, ...] | Skip | None:
    """One line on its own (see :meth:`LineParser.parse`; never a copy)."""
    result = LineParser(session_id, with_text=with_text).parse(raw, line)
    assert not isinstance(result, Copy)  # a fresh parser has no previous line
    return result


def _response(
    top: dict[str, Any], message: dict[str, Any], usage: dict[str, Any], *, line: int,
    session_id: str,
) -> Response | Skip:  # fmt: skip
    stamp = top["timestamp"]
    if _TIMESTAMP.fullmatch(stamp) is None:
        return Skip("bad timestamp", f"timestamp {stamp[:40]!r} is not an RFC 3339 time")
    try:
        ts = datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return Skip("bad timestamp", f"timestamp {stamp[:40]!r} is not a valid time")
    tokens = counts(usage)
    if isinstance(tokens, Skip):
        return tokens
    speed = usage.get("speed")
    if speed is not None and speed not in _SPEEDS:
        return Skip("bad usage", f"usage.speed is {str(speed)[:20]!r}")
    version = top.get("version")
    if version is not None and _SEMVER_PREFIX.match(version) is None:
        return Skip("bad version", f"version {version[:20]!r} is not a release number")
    session, request = top.get("sessionId"), top.get("requestId")
    mid, model = message.get("id"), message.get("model")
    for name, value in (
        ("sessionId", session),
        ("requestId", request),
        ("message.id", mid),
        ("message.model", model),
    ):
        if value == "":
            return Skip(f"empty {name}", f"{name} is empty")
    agent = top.get("attributionAgent")
    return Response(
        line=line,
        message_id=mid,
        request_id=request,
        session_id=session if session is not None else session_id,
        ts=ts,
        ts_ms=round(ts * 1000),
        model=model,
        sidechain=top.get("isSidechain") is True,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        cache_creation_5m_tokens=tokens[2],
        cache_creation_1h_tokens=tokens[3],
        cache_read_tokens=tokens[4],
        fast=speed == "fast",
        us_only=usage.get("inference_geo") == "us",
        agent=agent if isinstance(agent, str) and agent else None,
    )


def _advisors(usage: dict[str, Any], response: Response) -> tuple[Response, ...]:
    """The advisor iterations of a response, each a response of its own (ccusage's rule)."""
    iterations = usage.get("iterations")
    if not isinstance(iterations, list):
        return ()
    found: list[Response] = []
    for item in iterations:
        if not isinstance(item, dict) or item.get("type") != "advisor_message":
            continue
        model = item.get("model")
        tokens = counts(item)
        if not isinstance(model, str) or not model or isinstance(tokens, Skip):
            continue
        mid = response.message_id
        found.append(
            Response(
                line=response.line,
                message_id=None if mid is None else f"{mid}:advisor:{len(found)}",
                request_id=response.request_id,
                session_id=response.session_id,
                ts=response.ts,
                ts_ms=response.ts_ms,
                model=model,
                sidechain=response.sidechain,
                input_tokens=tokens[0],
                output_tokens=tokens[1],
                cache_creation_5m_tokens=tokens[2],
                cache_creation_1h_tokens=tokens[3],
                cache_read_tokens=tokens[4],
                agent=response.agent,
            )
        )
    return tuple(found)


__all__ = ["SYNTHETIC_MODEL", "USAGE_MARKER", "LineParser", "looks_like_json_object", "parse_line"]
