"""Claude Code transcripts, line by line: which lines report an API response, with its ids,
model, token usage and who made it. Pure: bytes in, records out (``importer`` does the I/O).

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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any, Final

USAGE_MARKER: Final = b'"usage":{'
SYNTHETIC_MODEL: Final = "<synthetic>"
MAX_TOKENS: Final = 2**53  # a count above this is not a token count (and would not fit SQL)

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?(?:Z|[+-]\d{2}:\d{2})")
_SEMVER_PREFIX = re.compile(r"\d+\.\d+\.\d")
# fields ccusage refuses to see null (its schema's non-nullable ones), where they live
_NOT_NULL_TOP: Final = ("requestId", "sessionId", "version", "cwd", "costUSD", "isApiErrorMessage")
_NOT_NULL_MESSAGE: Final = ("id", "model")
_NOT_NULL_USAGE: Final = ("speed", "cache_read_input_tokens", "cache_creation_input_tokens")
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


@dataclass(slots=True)
class Response:
    """One line's report of one API response (copies of it follow, one per content block)."""

    line: int  # 1-based
    message_id: str | None
    request_id: str | None
    session_id: str  # the line's sessionId, else the session its file's path names
    ts: float  # epoch seconds
    ts_ms: int  # epoch milliseconds (what identity compares)
    model: str | None
    sidechain: bool
    input_tokens: int
    output_tokens: int
    cache_creation_5m_tokens: int
    cache_creation_1h_tokens: int
    cache_read_tokens: int
    fast: bool = False  # usage.speed == "fast"
    us_only: bool = False  # usage.inference_geo == "us"
    agent: str | None = None  # attributionAgent
    texts: list[str] = field(default_factory=list)  # its text blocks (only when asked for)
    parent_uuid: str | None = None  # only when text is asked for
    origin: str | None = None  # file, line and hash: what identifies it without a message id

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_5m_tokens
            + self.cache_creation_1h_tokens
            + self.cache_read_tokens
        )

    @property
    def tokens(self) -> tuple[int, int, int, int, int]:
        return (
            self.input_tokens,
            self.output_tokens,
            self.cache_creation_5m_tokens,
            self.cache_creation_1h_tokens,
            self.cache_read_tokens,
        )


@dataclass(frozen=True, slots=True)
class Skip:
    """A line that looked like a response and is not counted, and why."""

    reason: str  # short, for counting: "broken JSON", "synthetic", "bad timestamp", ...
    detail: str = ""  # for the report
    problem: bool = True  # worth showing with its file and line (synthetic lines are not)


SYNTHETIC = Skip("synthetic", problem=False)


@dataclass(frozen=True, slots=True)
class TranscriptFile:
    """Where a transcript sits: its session and, for a subagent's, the agent id."""

    path: PurePath
    relative: str  # to the projects folder, with "/"
    project: str
    session_id: str  # the session its path names
    agent_id: str | None  # "a3fe34..." of subagents/agent-a3fe34....jsonl
    main: bool  # <project>/<session>.jsonl

    @property
    def meta_path(self) -> PurePath | None:
        """``agent-<id>.meta.json`` beside a subagent's transcript."""
        if self.agent_id is None:
            return None
        return self.path.with_name(f"agent-{self.agent_id}.meta.json")


def transcript_file(path: PurePath, projects: PurePath) -> TranscriptFile:
    """Name the session (and agent) of a transcript under ``projects``, as ccusage does:
    ``<project>/<session>.jsonl``, ``<project>/<session>/subagents/<file>.jsonl``, else the
    folder that holds the file."""
    parts = path.relative_to(projects).parts
    stem = parts[-1].removesuffix(".jsonl")
    agent_id = None
    if len(parts) == 2 and stem:
        return TranscriptFile(path, "/".join(parts), parts[0], stem, None, main=True)
    if len(parts) >= 4 and parts[-2] == "subagents":
        session = parts[-3]
        if stem.startswith("agent-"):
            agent_id = stem.removeprefix("agent-") or None
    else:
        session = parts[-2] if len(parts) >= 2 else "unknown"
    project = parts[0] if len(parts) > 1 else "unknown"
    return TranscriptFile(path, "/".join(parts), project, session, agent_id, main=False)


def agent_type(meta: bytes) -> str | None:
    """``agentType`` of an ``agent-<id>.meta.json``; ``None`` when it holds none.
    Raises ``ValueError`` when the file is not JSON."""
    data = json.loads(meta)
    value = data.get("agentType") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def looks_like_json_object(raw: bytes) -> bool:
    """The cheap check for lines that report no usage (they are not parsed): a JSON object
    starts with ``{`` and ends with ``}``. Catches what breaks lines in practice: a write cut
    short, two lines run together, garbage."""
    stripped = raw.strip()
    return stripped.startswith(b"{") and stripped.endswith(b"}")


class Copy:
    """What :meth:`LineParser.parse` returns for a line that repeats the previous line's
    response exactly (the next content block of the same answer)."""

    __slots__ = ()


COPY: Final = Copy()


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
        entry = _entry(data)
        if entry is None or isinstance(entry, Skip):
            return entry  # None: the bytes were elsewhere (a tool's result quoting a usage)
        top, message, usage = entry
        response = _response(top, message, usage, line=line, session_id=self.session_id)
        if isinstance(response, Skip):
            self._last = None
            return response
        self._last = same if top is data else None
        if self.with_text:
            response.texts = _texts(message.get("content"))
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


_Entry = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]


def _entry(data: dict[str, Any]) -> _Entry | Skip | None:
    """The (line, message, usage) objects: the line's own, else an older progress line's;
    ``None`` when neither holds a ``message.usage`` object."""
    direct = _shape(data, version_checked=True)
    if isinstance(direct, tuple):
        return direct
    holder = data.get("data")
    inner = holder.get("message") if isinstance(holder, dict) else None
    nested = _shape(inner, version_checked=False) if isinstance(inner, dict) else None
    if isinstance(nested, tuple):  # {"type": "progress", "data": {"message": {...}}}
        top, message, usage = nested
        session = data.get("sessionId")  # the outer line's; the copy has no version
        if "sessionId" in data and type(session) is not str:
            return Skip("bad sessionId", "sessionId is not a string")
        top = {k: v for k, v in top.items() if k not in ("sessionId", "version")}
        if session is not None:
            top["sessionId"] = session
        return top, message, usage
    return direct if direct is not None else nested


def _missing_null(name: str) -> Skip:
    return Skip(f"null {name}", f"{name} is null")


def _shape(top: dict[str, Any], *, version_checked: bool) -> _Entry | Skip | None:
    """The line's (top, message, usage) objects with their fields' types checked (as ccusage's
    schema: the fields it reads may be missing, not null, nor of another type)."""
    message = top.get("message")
    usage = message.get("usage") if type(message) is dict else None
    if type(usage) is not dict:
        return None
    assert type(message) is dict
    get, mget, uget = top.get, message.get, usage.get
    names = _NOT_NULL_TOP if version_checked else _NOT_NULL_PROGRESS
    if (
        None in [get(name, 0) for name in names]
        or mget("id", 0) is None
        or mget("model", 0) is None
        or None in [uget(name, 0) for name in _NOT_NULL_USAGE]
    ):
        return _null(top, message, usage, names)
    if type(get("timestamp")) is not str:
        return Skip("bad timestamp", "timestamp is missing or not a string")
    for name in _STRINGS_TOP if version_checked else _STRINGS_TOP[:2]:
        value = get(name)
        if value is not None and type(value) is not str:
            return Skip(f"bad {name}", f"{name} is not a string")
    for name in ("id", "model"):
        value = mget(name)
        if value is not None and type(value) is not str:
            return Skip(f"bad message.{name}", f"message.{name} is not a string")
    side = get("isSidechain")
    if side is not None and type(side) is not bool:
        return Skip("bad isSidechain", "isSidechain is not true or false")
    cost = get("costUSD")
    if cost is not None and type(cost) not in (int, float):
        return Skip("bad costUSD", "costUSD is not a number")
    return top, message, usage


_NOT_NULL_PROGRESS: Final = ("requestId", "sessionId", "costUSD", "isApiErrorMessage")
_STRINGS_TOP: Final = ("sessionId", "requestId", "version")


def _null(
    top: dict[str, Any], message: dict[str, Any], usage: dict[str, Any], names: tuple[str, ...]
) -> Skip:
    """The Skip for the first field that is null."""
    for fields, where in ((names, top), (_NOT_NULL_MESSAGE, message), (_NOT_NULL_USAGE, usage)):
        for name in fields:
            if name in where and where[name] is None:
                return _missing_null(name)
    raise AssertionError("no null field")  # pragma: no cover - called when there is one


def _count(usage: dict[str, Any], name: str, *, required: bool = False) -> int | Skip:
    if name not in usage and not required:
        return 0
    value = usage.get(name)
    if type(value) is not int or value < 0:
        what = "missing" if name not in usage else "not a token count"
        return Skip("bad usage", f"usage.{name} is {what}")
    if value > MAX_TOKENS:
        return Skip("bad usage", f"usage.{name} is {value}: too large to be a token count")
    return value


_Counts = tuple[int, int, int, int, int]  # input, output, cache writes 5m and 1h, cache reads


def _counts(usage: dict[str, Any]) -> _Counts | Skip:
    """The token counts of a usage object (cache writes: the 5m / 1h split when given)."""
    get = usage.get
    inp, out = get("input_tokens"), get("output_tokens")
    written, read = get("cache_creation_input_tokens", 0), get("cache_read_input_tokens", 0)
    if not (
        type(inp) is int
        and type(out) is int
        and type(written) is int
        and type(read) is int
        and 0 <= inp <= MAX_TOKENS
        and 0 <= out <= MAX_TOKENS
        and 0 <= written <= MAX_TOKENS
        and 0 <= read <= MAX_TOKENS
    ):
        return _bad_counts(usage)
    split = get("cache_creation")
    if split is None:
        return inp, out, written, 0, read
    if type(split) is not dict:
        return Skip("bad usage", "usage.cache_creation is not an object")
    five, hour = (
        split.get("ephemeral_5m_input_tokens", 0),
        split.get("ephemeral_1h_input_tokens", 0),
    )
    if (
        type(five) is int
        and type(hour) is int
        and 0 <= five <= MAX_TOKENS
        and 0 <= hour <= MAX_TOKENS
    ):
        return inp, out, five, hour, read
    for name in ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"):
        bad = _count(split, name)
        if isinstance(bad, Skip):
            return bad
    raise AssertionError("a split count is bad")  # pragma: no cover


def _bad_counts(usage: dict[str, Any]) -> Skip:
    """The Skip for the first count of ``usage`` that is not a token count."""
    for name, required in (
        ("input_tokens", True),
        ("output_tokens", True),
        ("cache_creation_input_tokens", False),
        ("cache_read_input_tokens", False),
    ):
        bad = _count(usage, name, required=required)
        if isinstance(bad, Skip):
            return bad
    raise AssertionError("a count is bad")  # pragma: no cover


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
    counts = _counts(usage)
    if isinstance(counts, Skip):
        return counts
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
        input_tokens=counts[0],
        output_tokens=counts[1],
        cache_creation_5m_tokens=counts[2],
        cache_creation_1h_tokens=counts[3],
        cache_read_tokens=counts[4],
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
        counts = _counts(item)
        if not isinstance(model, str) or not model or isinstance(counts, Skip):
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
                input_tokens=counts[0],
                output_tokens=counts[1],
                cache_creation_5m_tokens=counts[2],
                cache_creation_1h_tokens=counts[3],
                cache_read_tokens=counts[4],
                agent=response.agent,
            )
        )
    return tuple(found)


def _texts(content: object) -> list[str]:
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


__all__ = [
    "COPY",
    "MAX_TOKENS",
    "SYNTHETIC_MODEL",
    "USAGE_MARKER",
    "Copy",
    "LineParser",
    "Response",
    "Skip",
    "TranscriptFile",
    "agent_type",
    "looks_like_json_object",
    "parse_line",
    "transcript_file",
    "user_turn",
]
