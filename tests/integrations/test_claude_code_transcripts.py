"""Reading transcript lines: which report a response, with what, and why others are skipped."""

from __future__ import annotations

import json

import pytest

from ctxrouter.integrations.claude_code.responses import COPY, Response, Skip
from ctxrouter.integrations.claude_code.texts import user_turn
from ctxrouter.integrations.claude_code.transcripts import LineParser, parse_line

from .cc_lines import TS, assistant, compact, other, usage, user


def one(raw: str, **kw: object) -> Response:
    result = parse_line(raw.encode(), line=7, session_id="path-session", **kw)  # type: ignore[arg-type]
    assert isinstance(result, tuple), result
    (response,) = result
    return response


def skip(raw: str | bytes) -> Skip:
    data = raw.encode() if isinstance(raw, str) else raw
    result = parse_line(data, line=3, session_id="s")
    assert isinstance(result, Skip), result
    return result


def test_an_assistant_line_of_claude_code_2_1_328() -> None:
    raw = assistant(
        "msg_01X", "req_01Y", side=True, agent="python-pro", tokens=usage(3, 40, 1000, 200, 9000)
    )
    r = one(raw)
    assert (r.message_id, r.request_id, r.session_id, r.model) == (
        "msg_01X",
        "req_01Y",
        "s-1",
        "claude-opus-5-5",
    )
    assert r.tokens == (3, 40, 1000, 200, 9000) and r.total_tokens == 10243
    assert r.sidechain and r.agent == "python-pro" and r.line == 7
    assert r.ts == pytest.approx(1795685069.692) and r.ts_ms == 1795685069692
    assert not r.fast and not r.us_only and r.texts == []


def test_cache_writes_come_from_the_split_when_it_is_there() -> None:
    split = usage(five=30, hour=12)
    split["cache_creation_input_tokens"] = 999  # the split wins, as in ccusage
    assert one(assistant(tokens=split)).tokens[2:4] == (30, 12)
    no_split = usage(five=30, hour=12)
    del no_split["cache_creation"]
    assert one(assistant(tokens=no_split)).tokens[2:4] == (42, 0)  # taken as 5-minute writes
    nulled = usage(five=30, hour=12, cache_creation=None)
    assert one(assistant(tokens=nulled)).tokens[2:4] == (42, 0)
    bare = {"input_tokens": 1, "output_tokens": 2}
    assert one(assistant(tokens=bare)).tokens == (1, 2, 0, 0, 0)


def test_lines_without_usage_are_not_responses() -> None:
    for raw in (user("hello"), other(), "", "   ", '{"type":"summary"}'):
        assert parse_line(raw.encode(), line=1, session_id="s") is None
    # a tool result quoting a usage object is not a response either
    quoted = compact({"type": "user", "toolUseResult": {"usage": {"input_tokens": 5}}})
    assert parse_line(quoted.encode(), line=1, session_id="s") is None


def test_broken_lines_say_so() -> None:
    cut = assistant()[:-30]
    assert skip(cut).reason == "broken JSON"
    assert skip("garbage that is not json").reason == "broken JSON"
    assert skip("\ufeff" + assistant()).reason == "broken JSON"  # a byte order mark
    twice = assistant()[:-1] + ',"requestId":"req_other"}'  # a key given twice
    assert skip(twice).reason == "broken JSON"
    assert skip(assistant().encode()[:-3] + b'\xff"}').reason == "broken JSON"
    assert skip(cut).problem


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"timestamp": "2026-11-26"}, "bad timestamp"),
        ({"timestamp": "2026-11-26T10:00:00"}, "bad timestamp"),  # no offset
        ({"timestamp": "2026-11-26T10:00:00.1234Z"}, "bad timestamp"),
        ({"timestamp": "2026-11-26T24:00:00Z"}, "bad timestamp"),
        ({"timestamp": 5}, "bad timestamp"),
        ({"requestId": None}, "null requestId"),
        ({"cwd": None}, "null cwd"),
        ({"requestId": ""}, "empty requestId"),
        ({"sessionId": 5}, "bad sessionId"),
        ({"version": "v2"}, "bad version"),
        ({"isSidechain": "true"}, "bad isSidechain"),
        ({"costUSD": "1"}, "bad costUSD"),
    ],
)
def test_invalid_fields_skip_the_line_with_a_reason(change: dict[str, object], reason: str) -> None:
    line = json.loads(assistant())
    line.update(change)
    assert skip(compact(line)).reason == reason


@pytest.mark.parametrize(
    ("tokens", "detail"),
    [
        ({"output_tokens": 1}, "usage.input_tokens is missing"),
        ({"input_tokens": 1, "output_tokens": "2"}, "usage.output_tokens is not a token count"),
        ({"input_tokens": 1, "output_tokens": -2}, "usage.output_tokens is not a token count"),
        ({"input_tokens": 1, "output_tokens": 2.0}, "usage.output_tokens is not a token count"),
        ({"input_tokens": 1, "output_tokens": True}, "usage.output_tokens is not a token count"),
        ({"input_tokens": 1, "output_tokens": 2**60}, "too large"),
        ({"input_tokens": 1, "output_tokens": 2, "cache_creation": 5}, "not an object"),
        ({"input_tokens": 1, "output_tokens": 2, "speed": "turbo"}, "usage.speed"),
    ],
)
def test_bad_usage_skips_the_line(tokens: dict[str, object], detail: str) -> None:
    found = skip(assistant(tokens=tokens))
    assert found.reason == "bad usage" and detail in found.detail


def test_fields_may_be_missing() -> None:
    r = one(assistant(mid=None, rid=None, model=None, session=None))
    assert (r.message_id, r.request_id, r.model) == (None, None, None)
    assert r.session_id == "path-session"  # from the file's path
    line = json.loads(assistant())
    del line["version"], line["isSidechain"]
    assert not one(compact(line)).sidechain


def test_synthetic_lines_are_not_responses() -> None:
    raw = assistant(model="<synthetic>", tokens=usage(0, 0, 0, 0, 0), isApiErrorMessage=True)
    found = skip(raw)
    assert found.reason == "synthetic" and not found.problem


def test_advisor_iterations_are_responses_of_their_own() -> None:
    advisor = {"type": "advisor_message", "model": "claude-opus-5-5", "input_tokens": 100,
               "output_tokens": 200, "cache_read_input_tokens": 5}  # fmt: skip
    main = {"type": "message", "model": None, "input_tokens": 1, "output_tokens": 2}
    raw = assistant(model="claude-sonnet-5-5", tokens=usage(iterations=[main, advisor]))
    result = parse_line(raw.encode(), line=1, session_id="s")
    assert isinstance(result, tuple)
    first, second = result
    assert first.model == "claude-sonnet-5-5" and first.message_id == "msg_01"
    assert (second.model, second.message_id, second.request_id) == (
        "claude-opus-5-5",
        "msg_01:advisor:0",
        "req_01",
    )
    assert second.tokens == (100, 200, 0, 0, 5)


def test_an_older_progress_line_is_read_from_its_data() -> None:
    inner = json.loads(assistant("msg_p", "req_p", side=True, session="inner"))
    r = one(compact({"type": "progress", "sessionId": "outer", "data": {"message": inner}}))
    assert (r.message_id, r.request_id, r.session_id, r.sidechain) == (
        "msg_p",
        "req_p",
        "outer",
        True,
    )


def test_copies_of_the_previous_response_are_recognised_without_validation() -> None:
    parser = LineParser("s")
    first = assistant(content=[{"type": "thinking", "thinking": "..."}])
    second = assistant(content=[{"type": "tool_use", "id": "t", "name": "Read", "input": {}}])
    assert isinstance(parser.parse(first.encode(), 1), tuple)
    assert parser.parse(second.encode(), 2) is COPY
    grown = assistant(tokens=usage(out=41))  # more output: not a copy, the dedupe decides
    assert isinstance(parser.parse(grown.encode(), 3), tuple)
    assert isinstance(parser.parse(assistant(rid="req_02").encode(), 4), tuple)
    no_request = assistant(rid=None)
    assert isinstance(parser.parse(no_request.encode(), 5), tuple)
    assert isinstance(parser.parse(no_request.encode(), 6), tuple)  # no request id: never
    texts = LineParser("s", with_text=True)
    assert isinstance(texts.parse(first.encode(), 1), tuple)
    assert isinstance(texts.parse(second.encode(), 2), tuple)  # each block brings its text


def test_text_only_when_asked() -> None:
    blocks = [{"type": "text", "text": "Hello"}, {"type": "tool_use", "id": "t", "input": {}}]
    raw = assistant(content=blocks, parent="u-9")
    assert one(raw).texts == [] and one(raw).parent_uuid is None
    r = one(raw, with_text=True)
    assert r.texts == ["Hello"] and r.parent_uuid == "u-9"
    assert user_turn(user("Fix the bug", uuid="u-9", parent="u-8").encode()) == (
        "u-9",
        "u-8",
        "Fix the bug",
    )
    tool_result = json.dumps({"type": "user", "uuid": "u-3", "parentUuid": None,
        "message": {"content": [{"type": "tool_result", "content": [{"type": "text",
        "text": "42 files"}]}]}})  # fmt: skip
    assert user_turn(tool_result.encode()) == ("u-3", None, "42 files")
    assert user_turn(assistant(uuid="u-4").encode()) == ("u-4", "u-0", None)
    assert user_turn(b"not json") is None


def test_the_sample_timestamp_is_utc() -> None:
    assert TS.endswith("Z")
    with_offset = json.loads(assistant())
    with_offset["timestamp"] = "2026-11-26T10:24:29.692+01:00"
    assert one(compact(with_offset)).ts_ms == one(assistant()).ts_ms
    spaced = json.dumps(json.loads(assistant()))  # "usage": { with a space: not Claude Code's
    assert parse_line(spaced.encode(), line=1, session_id="s") is None
