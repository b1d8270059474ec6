"""ccusage 20.0.24's schema for a line that reports usage: the objects it reads, the types their
fields must have, and the token counts of a usage object. Pure: parsed JSON in, the checked
objects (or the :class:`Skip` saying what is wrong) out. The rules are listed in
:mod:`.transcripts`.
"""

from __future__ import annotations

from typing import Any, Final

from ctxrouter.integrations.claude_code.responses import Skip

MAX_TOKENS: Final = 2**53  # a count above this is not a token count (and would not fit SQL)

# fields ccusage refuses to see null (its schema's non-nullable ones), where they live
_NOT_NULL_TOP: Final = ("requestId", "sessionId", "version", "cwd", "costUSD", "isApiErrorMessage")
_NOT_NULL_PROGRESS: Final = ("requestId", "sessionId", "costUSD", "isApiErrorMessage")
_NOT_NULL_MESSAGE: Final = ("id", "model")
_NOT_NULL_USAGE: Final = ("speed", "cache_read_input_tokens", "cache_creation_input_tokens")
_STRINGS_TOP: Final = ("sessionId", "requestId", "version")

Entry = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]  # the line, message, usage
Counts = tuple[int, int, int, int, int]  # input, output, cache writes 5m and 1h, cache reads


def entry(data: dict[str, Any]) -> Entry | Skip | None:
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


def _shape(top: dict[str, Any], *, version_checked: bool) -> Entry | Skip | None:
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


def _null(
    top: dict[str, Any], message: dict[str, Any], usage: dict[str, Any], names: tuple[str, ...]
) -> Skip:
    """The Skip for the first field that is null."""
    for fields, where in ((names, top), (_NOT_NULL_MESSAGE, message), (_NOT_NULL_USAGE, usage)):
        for name in fields:
            if name in where and where[name] is None:
                return Skip(f"null {name}", f"{name} is null")
    raise AssertionError("no null field")  # pragma: no cover - called when there is one


def counts(usage: dict[str, Any]) -> Counts | Skip:
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


__all__ = ["MAX_TOKENS", "Counts", "Entry", "counts", "entry"]
