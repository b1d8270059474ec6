"""Reading the API's usage objects: JSON, SDK models and streams, by one set of rules."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types import MessageDeltaUsage
from anthropic.types import Usage as SDKUsage

from ctxrouter.models.usage import Usage, merge_stream_usage, parse_usage


def test_every_count_and_the_cache_split() -> None:
    raw = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 2000,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
    }
    assert parse_usage(raw) == Usage(
        input_tokens=10,
        output_tokens=5,
        cache_creation_5m_tokens=100,
        cache_creation_1h_tokens=200,
        cache_read_tokens=2000,
    )


@pytest.mark.parametrize("split", [None, "absent", "not a mapping"])
def test_cache_writes_without_a_split_count_as_5m(split: Any) -> None:
    raw: dict[str, Any] = {"input_tokens": 1, "cache_creation_input_tokens": 9}
    if split != "absent":
        raw["cache_creation"] = split
    usage = parse_usage(raw)
    assert (usage.cache_creation_5m_tokens, usage.cache_creation_1h_tokens) == (9, 0)


def test_tokens_the_split_leaves_out_count_as_5m() -> None:
    raw = {
        "cache_creation_input_tokens": 50,
        "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 30},
    }
    usage = parse_usage(raw)
    assert (usage.cache_creation_5m_tokens, usage.cache_creation_1h_tokens) == (20, 30)


@pytest.mark.parametrize("value", [None, True, False, -4, 2.5, "12"])
def test_a_count_that_is_not_a_positive_int_is_0(value: Any) -> None:
    raw = {"input_tokens": value, "output_tokens": 3, "cache_creation_input_tokens": value}
    assert parse_usage(raw) == Usage(output_tokens=3)
    assert parse_usage({}) == Usage()


def test_sdk_models_are_read_by_the_same_rules() -> None:
    sdk = SDKUsage.model_validate(
        {
            "input_tokens": 7,
            "output_tokens": 2,
            "cache_creation_input_tokens": 40,
            "cache_read_input_tokens": None,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 30},
        }
    )
    assert parse_usage(sdk.model_dump()) == Usage(
        input_tokens=7, output_tokens=2, cache_creation_5m_tokens=10, cache_creation_1h_tokens=30
    )


def test_a_stream_merges_message_start_then_message_delta() -> None:
    start = {
        "input_tokens": 12,
        "output_tokens": 1,  # a placeholder
        "cache_creation_input_tokens": 30,
        "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20},
    }
    so_far = merge_stream_usage({}, start, event="message_start")
    assert "output_tokens" not in so_far
    merged = merge_stream_usage(so_far, {"output_tokens": 42}, event="message_delta")
    assert so_far.get("output_tokens") is None  # pure: the earlier state is unchanged
    assert parse_usage(merged) == Usage(
        input_tokens=12, output_tokens=42, cache_creation_5m_tokens=10, cache_creation_1h_tokens=20
    )


def test_cumulative_counts_in_message_delta_win_and_nulls_or_junk_do_not() -> None:
    so_far = merge_stream_usage(
        {}, {"input_tokens": 12, "cache_read_input_tokens": 5}, event="message_start"
    )
    delta = {
        "output_tokens": 9,
        "input_tokens": 15,
        "cache_read_input_tokens": None,
        "cache_creation_input_tokens": True,
        "server_tool_use": {"web_search_requests": 1},
    }
    merged = merge_stream_usage(so_far, delta, event="message_delta")
    assert merged == {"input_tokens": 15, "cache_read_input_tokens": 5, "output_tokens": 9}
    assert merge_stream_usage(merged, None, event="message_delta") == merged


def test_sdk_stream_usage_dumps_merge_like_json() -> None:
    sdk_start = SDKUsage(input_tokens=12, output_tokens=1, cache_read_input_tokens=3)
    sdk_delta = MessageDeltaUsage(output_tokens=40, input_tokens=None)
    merged = merge_stream_usage({}, sdk_start.model_dump(), event="message_start")
    merged = merge_stream_usage(merged, sdk_delta.model_dump(), event="message_delta")
    assert parse_usage(merged) == Usage(input_tokens=12, output_tokens=40, cache_read_tokens=3)
