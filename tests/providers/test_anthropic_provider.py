"""AnthropicProvider: the official SDK, through our provider, against the fake Anthropic server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import pytest

from ctxrouter import errors
from ctxrouter.errors import ConfigError, ProviderError
from ctxrouter.models.pricing import Usage
from ctxrouter.providers.anthropic import AnthropicProvider, parse_retry_after
from ctxrouter.providers.base import Message, ModelCall, Provider
from ctxrouter.testing import FakeAnthropic, Fault, fake_anthropic_server

MODEL = "claude-haiku-4-5"


def call(text: str = "hello there", **options: Any) -> ModelCall:
    fields: dict[str, Any] = {"model": MODEL, "messages": (Message("user", text),), **options}
    return ModelCall(**fields)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    yield from fake_anthropic_server(FakeAnthropic(api_key="test-key"))


@pytest.fixture
async def provider(fake: FakeAnthropic) -> AsyncIterator[AnthropicProvider]:
    async with AnthropicProvider(api_key="test-key", base_url=fake.base_url) as provider:
        yield provider


async def failure(provider: AnthropicProvider, model_call: ModelCall) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await provider.complete(model_call)
    return caught.value


# -- answers --------------------------------------------------------------------------------


async def test_is_a_provider(provider: AnthropicProvider) -> None:
    assert isinstance(provider, Provider)
    assert provider.name == "anthropic"


async def test_complete(fake: FakeAnthropic, provider: AnthropicProvider) -> None:
    response = await provider.complete(call("What is 2+2?", system="Be brief."))

    assert response.text == f"Fake reply from {MODEL}. You said: What is 2+2?"
    assert response.model == MODEL
    assert response.stop_reason == "end_turn"
    assert response.usage == Usage(input_tokens=6, output_tokens=-(-len(response.text) // 4))
    assert response.latency_s > 0
    assert response.ttft_s is None
    assert len(fake.requests) == 1
    assert response.request_id is not None
    assert response.request_id.startswith("req_")


async def test_sends_system_messages_max_tokens_temperature_and_extra(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    conversation = (
        Message("user", "Hi"),
        Message("assistant", "Hello!"),
        Message("user", "Summarise our chat."),
    )
    await provider.complete(
        ModelCall(
            model=MODEL,
            messages=conversation,
            system="You are terse.",
            max_tokens=321,
            temperature=0.2,
            extra={"metadata": {"user_id": "u-1"}, "stop_sequences": ["END"]},
        )
    )

    [seen] = fake.requests
    assert seen.body == {
        "model": MODEL,
        "max_tokens": 321,
        "system": "You are terse.",
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Summarise our chat."},
        ],
        "temperature": 0.2,
        "metadata": {"user_id": "u-1"},
        "stop_sequences": ["END"],
        "stream": False,
    }
    assert seen.headers["authorization"] == "Bearer test-key"
    assert seen.headers["x-stainless-retry-count"] == "0"


async def test_cache_tokens_split_5m_and_1h(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 2000,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
    }
    fake.enqueue(Fault.ok("ok", usage=usage), Fault.ok("ok", usage=usage))

    plain = await provider.complete(call())
    streamed = await provider.complete(call(stream=True))

    expected = Usage(
        input_tokens=10,
        output_tokens=5,
        cache_creation_5m_tokens=100,
        cache_creation_1h_tokens=200,
        cache_read_tokens=2000,
    )
    assert plain.usage == expected
    assert streamed.usage == expected


async def test_cache_writes_without_the_split_count_as_5m(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    usage = {"cache_creation_input_tokens": 300, "cache_creation": None}
    fake.enqueue(Fault.ok("ok", usage=usage), Fault.ok("ok", usage=usage))

    plain = await provider.complete(call())
    streamed = await provider.complete(call(stream=True))

    assert plain.usage.cache_creation_5m_tokens == 300
    assert plain.usage.cache_creation_1h_tokens == 0
    assert streamed.usage.cache_creation_5m_tokens == 300


async def test_real_cache_control_through_extra(provider: AnthropicProvider) -> None:
    marked = {"cache_control": {"type": "ephemeral"}}

    first = await provider.complete(call("x" * 4000, extra=marked))
    second = await provider.complete(call("x" * 4000, extra=marked))

    assert first.usage.cache_creation_5m_tokens > 0
    assert second.usage.cache_read_tokens == first.usage.cache_creation_5m_tokens


async def test_stream(fake: FakeAnthropic, provider: AnthropicProvider) -> None:
    response = await provider.complete(call("hi", stream=True))

    assert response.text == f"Fake reply from {MODEL}. You said: hi"
    assert response.model == MODEL
    assert response.stop_reason == "end_turn"
    assert response.usage.input_tokens == 1
    assert response.usage.output_tokens == -(-len(response.text) // 4)
    assert response.ttft_s is not None
    assert 0 < response.ttft_s <= response.latency_s
    assert response.request_id is not None
    assert fake.requests[0].stream


async def test_stream_of_tool_use_has_no_text(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    tool = {"type": "tool_use", "name": "lookup", "input": {"q": "x"}}
    fake.enqueue(Fault.ok(content=[tool]))

    response = await provider.complete(call(stream=True))

    assert response.text == ""
    assert response.stop_reason == "tool_use"
    assert response.ttft_s is not None


async def test_concurrent_calls(provider: AnthropicProvider) -> None:
    calls = [call(f"question {n}", stream=n % 2 == 0) for n in range(40)]

    responses = await asyncio.gather(*(provider.complete(c) for c in calls))

    assert [r.text.rsplit(" ", 1)[-1] for r in responses] == [str(n) for n in range(40)]


# -- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("fault", "error_class", "error_type", "retryable"),
    [
        (Fault.status(400), errors.BadRequestError, "invalid_request_error", False),
        (Fault.status(403), errors.PermissionDeniedError, "permission_error", False),
        (Fault.status(404), errors.NotFoundError, "not_found_error", False),
        (Fault.status(413), errors.RequestTooLargeError, "request_too_large", False),
        (Fault.status(429), errors.RateLimitError, "rate_limit_error", False),
        (Fault.status(429, retry_after=3), errors.RateLimitError, "rate_limit_error", True),
        (Fault.status(500), errors.InternalServerError, "api_error", True),
        (Fault.status(503), errors.ServiceUnavailableError, "api_error", True),
        (Fault.status(529), errors.OverloadedError, "overloaded_error", True),
    ],
)
async def test_status_errors_map_to_provider_errors(
    fake: FakeAnthropic,
    provider: AnthropicProvider,
    fault: Fault,
    error_class: type[ProviderError],
    error_type: str,
    retryable: bool,
    stream: bool,
) -> None:
    fake.enqueue(fault)

    error = await failure(provider, call(stream=stream))

    assert type(error) is error_class
    assert error.status == fault.status_code
    assert error.error_type == error_type
    assert error.retryable is retryable
    assert error.model == MODEL
    assert error.provider == "anthropic"
    assert error.request_id is not None
    assert error.request_id == error.headers["request-id"]
    assert isinstance(error.body, dict)
    assert error.body["error"]["type"] == error_type
    assert str(fault.status_code) in str(error)
    assert len(fake.requests) == 1  # the SDK did not retry


async def test_429_retry_after_seconds(fake: FakeAnthropic, provider: AnthropicProvider) -> None:
    fake.enqueue(Fault.status(429, retry_after=7))

    error = await failure(provider, call())

    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after == 7.0
    assert error.retryable
    assert "retry after 7s" in str(error)


async def test_429_retry_after_ms_wins(fake: FakeAnthropic, provider: AnthropicProvider) -> None:
    fake.enqueue(Fault.status(429, retry_after=7, headers={"retry-after-ms": "1500"}))

    error = await failure(provider, call())

    assert error.retry_after == 1.5


async def test_429_retry_after_http_date(fake: FakeAnthropic, provider: AnthropicProvider) -> None:
    fake.enqueue(Fault.status(429, retry_after="sometime soon"))
    fake.enqueue(Fault.status(429, retry_after="Fri, 31 Dec 2999 23:59:59 GMT"))

    unreadable = await failure(provider, call())
    future = await failure(provider, call())

    assert unreadable.retry_after is None
    assert not unreadable.retryable
    assert future.retry_after is not None
    assert future.retry_after > 365 * 24 * 3600
    assert future.retryable


async def test_an_unlisted_4xx_says_retrying_will_not_help(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.enqueue(Fault.status(409, error_type="conflict_error", message="Conflict"))

    error = await failure(provider, call())

    assert type(error) is ProviderError
    assert error.status == 409
    assert not error.retryable
    assert str(error).endswith("; retrying will not help")


async def test_401_from_a_wrong_key(fake: FakeAnthropic) -> None:
    async with AnthropicProvider(api_key="wrong", base_url=fake.base_url) as provider:
        error = await failure(provider, call())

    assert isinstance(error, errors.AuthenticationError)
    assert error.status == 401
    assert error.error_type == "authentication_error"
    assert not error.retryable
    assert "ANTHROPIC_API_KEY" in str(error)


@pytest.mark.parametrize("stream", [False, True])
async def test_slow_first_byte_against_a_short_timeout(
    fake: FakeAnthropic, provider: AnthropicProvider, stream: bool
) -> None:
    fake.enqueue(Fault.slow_first_byte(30.0))

    error = await failure(provider, call(stream=stream, timeout_s=0.2))

    assert isinstance(error, errors.APITimeoutError)
    assert error.retryable
    assert error.kind == "timeout"
    assert isinstance(error.__cause__, anthropic.APITimeoutError)  # the SDK wrapped it


async def test_next_chunk_of_a_stream_too_late_is_a_timeout() -> None:
    with FakeAnthropic(api_key="test-key", chunk_delay_s=30.0) as fake:
        async with AnthropicProvider(api_key="test-key", base_url=fake.base_url) as provider:
            error = await failure(provider, call(stream=True, timeout_s=0.2))

    assert isinstance(error, errors.APITimeoutError)
    assert error.retryable
    # the read timeout struck while reading the stream, and the SDK raised it as its own
    assert isinstance(error.__cause__, anthropic.APITimeoutError)


async def test_slow_first_byte_within_the_timeout(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.enqueue(Fault.slow_first_byte(0.05))

    response = await provider.complete(call(stream=True, timeout_s=30.0))

    assert response.text.startswith("Fake reply")


@pytest.mark.parametrize(
    ("fault", "stream"),
    [
        (Fault.reset(), False),
        (Fault.reset(), True),
        (Fault.reset(mid_body=True), False),
        (Fault.reset(mid_body=True), True),
    ],
)
async def test_connection_reset(
    fake: FakeAnthropic, provider: AnthropicProvider, fault: Fault, stream: bool
) -> None:
    fake.enqueue(fault)

    error = await failure(provider, call(stream=stream))

    assert isinstance(error, errors.APIConnectionError)
    assert error.retryable
    assert error.kind == "connection"
    # the SDK raised its own error, also in the middle of a stream (no HTTP-client exception)
    assert isinstance(error.__cause__, anthropic.APIConnectionError)
    assert (await provider.complete(call())).text  # the next call gets a fresh connection


async def test_refused_connection() -> None:
    with FakeAnthropic() as fake:
        base_url = fake.base_url  # nothing listens there once stopped

    async with AnthropicProvider(api_key="k", base_url=base_url) as provider:
        error = await failure(provider, call())

    assert isinstance(error, errors.APIConnectionError)
    assert isinstance(error.__cause__, anthropic.APIConnectionError)


@pytest.mark.parametrize(
    ("error_type", "retryable", "kind"),
    [
        ("overloaded_error", True, "overloaded"),
        ("api_error", True, "server_error"),
        ("invalid_request_error", False, "bad_request"),
    ],
)
async def test_error_event_mid_stream(
    fake: FakeAnthropic, provider: AnthropicProvider, error_type: str, retryable: bool, kind: str
) -> None:
    fake.enqueue(Fault.stream_error(error_type, after_deltas=2))

    error = await failure(provider, call(stream=True))

    assert isinstance(error, errors.StreamError)
    assert error.error_type == error_type
    assert error.retryable is retryable
    assert error.status is None
    assert error.request_id is not None
    assert error.kind == kind  # named as the same error type is when it is an HTTP status


async def test_magic_models_through_the_provider(provider: AnthropicProvider) -> None:
    overloaded = await failure(provider, call(model="fake-529"))
    streamed_error = await failure(provider, call(model="fake-stream-error", stream=True))

    assert isinstance(overloaded, errors.OverloadedError)
    assert isinstance(streamed_error, errors.StreamError)
    assert streamed_error.error_type == "overloaded_error"


# -- construction and pure helpers ----------------------------------------------------------


async def test_api_key_and_base_url_from_the_environment(
    fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)

    async with AnthropicProvider() as provider:
        response = await provider.complete(call())

    assert provider.base_url.startswith(fake.base_url)
    assert response.text


def test_no_credentials_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        AnthropicProvider()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "12"}, 12.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),
        ({"retry-after": "Thu, 01 Jan 2026 00:00:30 GMT"}, 30.0),
        ({"retry-after": "Wed, 31 Dec 2025 23:59:00 GMT"}, 0.0),
        ({"retry-after": "later"}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=1_767_225_600.0) == expected  # 2026-01-01T00:00:00Z
