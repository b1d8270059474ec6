"""The fake Anthropic server speaks the protocol: the wire format checked with raw httpx, and
the official SDK as a client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from ctxrouter.testing import FakeAnthropic, Fault, fake_anthropic_server

MODEL = "claude-haiku-4-5"


def body(text: str = "hello there", **extra: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": 256,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    yield from fake_anthropic_server()


@pytest.fixture
def http(fake: FakeAnthropic) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, headers={"x-api-key": "test"}) as client:
        yield client


@pytest.fixture
def sdk(fake: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key="test", base_url=fake.base_url, max_retries=0) as client:
        yield client


# -- the wire format ------------------------------------------------------------------------


def test_message_answer_has_the_messages_api_shape(fake: FakeAnthropic, http: httpx.Client) -> None:
    response = http.post("/v1/messages", json=body("What is 2+2?", system="Be brief."))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["request-id"].startswith("req_")
    message = response.json()
    assert message["id"].startswith("msg_")
    assert message["type"] == "message"
    assert message["role"] == "assistant"
    assert message["model"] == MODEL
    assert message["content"] == [
        {"type": "text", "text": f"Fake reply from {MODEL}. You said: What is 2+2?"}
    ]
    assert message["stop_reason"] == "end_turn"
    assert message["stop_sequence"] is None
    usage = message["usage"]
    assert usage["input_tokens"] == -(-len("Be brief.What is 2+2?") // 4)
    assert usage["output_tokens"] == -(-len(message["content"][0]["text"]) // 4)
    assert usage["cache_creation_input_tokens"] == 0
    assert usage["cache_read_input_tokens"] == 0
    assert usage["cache_creation"] == {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": 0,
    }


def test_every_request_is_recorded(fake: FakeAnthropic, http: httpx.Client) -> None:
    http.post("/v1/messages?beta=true", json=body(), headers={"anthropic-beta": "x-2026"})

    [seen] = fake.requests
    assert (seen.method, seen.path, seen.query) == ("POST", "/v1/messages", {"beta": "true"})
    assert seen.headers["x-api-key"] == "test"
    assert seen.headers["anthropic-beta"] == "x-2026"
    assert seen.body == body()
    assert seen.model == MODEL
    assert seen.stream is False
    assert seen.fault is None
    assert seen.status_code == 200


def test_keep_alive_reuses_one_connection(fake: FakeAnthropic, http: httpx.Client) -> None:
    for _ in range(5):
        assert http.post("/v1/messages", json=body()).status_code == 200

    assert fake.connections == 1
    assert len(fake.requests) == 5


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}, "max_tokens"),
        ({"model": MODEL, "max_tokens": 10}, "messages"),
        ({"model": MODEL, "max_tokens": 10, "messages": [{"role": "bot", "content": "x"}]}, "role"),
    ],
)
def test_invalid_request_is_a_400_in_the_anthropic_format(
    http: httpx.Client, payload: dict[str, Any], message: str
) -> None:
    response = http.post("/v1/messages", json=payload)

    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert message in error["error"]["message"]
    assert error["request_id"] == response.headers["request-id"]


def test_body_that_is_not_json_is_a_400(http: httpx.Client) -> None:
    response = http.post("/v1/messages", content=b"{not json")

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_unknown_path_is_a_404(http: httpx.Client) -> None:
    response = http.get("/v1/nothing")

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


def test_stream_sends_the_messages_api_events_in_order(http: httpx.Client) -> None:
    response = http.post("/v1/messages", json=body(stream=True))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-4:] == [
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert names.count("content_block_delta") == 4
    assert all(data["type"] == name for name, data in events)
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == 3
    text = "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta")
    assert text == f"Fake reply from {MODEL}. You said: hello there"
    message_delta = events[-2][1]
    assert message_delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert message_delta["usage"]["output_tokens"] == -(-len(text) // 4)


def test_count_tokens_and_models(http: httpx.Client) -> None:
    counted = http.post(
        "/v1/messages/count_tokens",
        json={"model": MODEL, "messages": [{"role": "user", "content": "x" * 40}]},
    )
    models = http.get("/v1/models").json()
    one = http.get(f"/v1/models/{MODEL}").json()

    assert counted.json() == {"input_tokens": 10}
    assert MODEL in [entry["id"] for entry in models["data"]]
    assert models["has_more"] is False
    assert one["id"] == MODEL and one["type"] == "model"


# -- faults ---------------------------------------------------------------------------------


def test_scripted_faults_are_consumed_in_order(fake: FakeAnthropic, http: httpx.Client) -> None:
    fake.enqueue(Fault.status(529), Fault.status(429, retry_after=1), Fault.status(500))

    responses = [http.post("/v1/messages", json=body()) for _ in range(4)]

    assert [r.status_code for r in responses] == [529, 429, 500, 200]
    assert [r.json().get("error", {}).get("type") for r in responses[:3]] == [
        "overloaded_error",
        "rate_limit_error",
        "api_error",
    ]
    assert responses[1].headers["retry-after"] == "1"
    assert "retry-after" not in responses[0].headers
    assert responses[0].json()["error"]["message"] == "Overloaded"
    assert [r.fault.kind if r.fault else None for r in fake.requests] == [
        "status",
        "status",
        "status",
        None,
    ]
    assert fake.pending == 0


def test_a_fault_for_a_model_waits_for_that_model(fake: FakeAnthropic, http: httpx.Client) -> None:
    fake.enqueue(Fault.status(529, model="claude-opus-5"))

    other = http.post("/v1/messages", json=body())
    target = http.post("/v1/messages", json={**body(), "model": "claude-opus-5"})

    assert (other.status_code, target.status_code) == (200, 529)


def test_scripted_answer_sets_text_usage_and_stop_reason(
    fake: FakeAnthropic, http: httpx.Client
) -> None:
    fake.enqueue(Fault.ok("forty-two", usage={"output_tokens": 7}, stop_reason="max_tokens"))

    message = http.post("/v1/messages", json=body()).json()

    assert message["content"] == [{"type": "text", "text": "forty-two"}]
    assert message["usage"]["output_tokens"] == 7
    assert message["stop_reason"] == "max_tokens"


def test_scripted_tool_use_through_the_sdk(fake: FakeAnthropic, sdk: anthropic.Anthropic) -> None:
    tool = {"type": "tool_use", "name": "get_weather", "input": {"city": "Paris"}}
    fake.enqueue(
        Fault.ok(content=[{"type": "text", "text": "Let me look."}, tool]),
        Fault.ok(content=[tool]),
    )

    message = sdk.messages.create(**body())
    with sdk.messages.stream(**body()) as stream:
        streamed = stream.get_final_message()

    assert message.stop_reason == "tool_use"
    assert message.content[1].type == "tool_use"
    assert message.content[1].name == "get_weather"
    assert message.content[1].input == {"city": "Paris"}
    assert streamed.content[0].type == "tool_use"
    assert streamed.content[0].input == {"city": "Paris"}


def test_magic_model_names(http: httpx.Client) -> None:
    def status(model: str) -> httpx.Response:
        return http.post("/v1/messages", json={**body(), "model": model})

    assert status("fake-529").status_code == 529
    assert status("fake-529").status_code == 529
    assert status("fake-429").headers["retry-after"] == "1"
    assert "retry-after" not in status("fake-429-no-retry-after").headers
    assert status("fake-401").json()["error"]["type"] == "authentication_error"
    with pytest.raises(httpx.TransportError):
        status("fake-reset")


def test_random_faults_are_reproducible_for_a_seed() -> None:
    def statuses(seed: int) -> list[int]:
        with (
            FakeAnthropic(seed=seed, rates={529: 0.2, 429: 0.1}) as fake,
            httpx.Client(base_url=fake.base_url) as client,
        ):
            return [client.post("/v1/messages", json=body()).status_code for _ in range(60)]

    first, again, other = statuses(1), statuses(1), statuses(2)

    assert first == again
    assert first != other
    assert {529, 429, 200} == set(first)


def test_random_429_carries_retry_after() -> None:
    with (
        FakeAnthropic(seed=3, rates={429: 1.0}) as fake,
        httpx.Client(base_url=fake.base_url) as client,
    ):
        response = client.post("/v1/messages", json=body())

    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"


@pytest.mark.parametrize("rates", [{200: 0.5}, {529: 1.5}, {529: 0.6, 500: 0.6}, {"slow": 0.1}])
def test_bad_rates_are_refused(rates: dict[int | str, float]) -> None:
    with pytest.raises(ValueError, match="rates"):
        FakeAnthropic(rates=rates)


def test_reset_before_the_answer(fake: FakeAnthropic, http: httpx.Client) -> None:
    fake.enqueue(Fault.reset())

    with pytest.raises(httpx.TransportError):
        http.post("/v1/messages", json=body())
    assert http.post("/v1/messages", json=body()).status_code == 200


def test_reset_in_the_middle_of_the_body(fake: FakeAnthropic, http: httpx.Client) -> None:
    fake.enqueue(Fault.reset(mid_body=True), Fault.reset(mid_body=True))

    with pytest.raises(httpx.TransportError):
        http.post("/v1/messages", json=body())
    with pytest.raises(httpx.TransportError):
        http.post("/v1/messages", json=body(stream=True))


def test_slow_first_byte_against_a_short_timeout(fake: FakeAnthropic, http: httpx.Client) -> None:
    fake.enqueue(Fault.slow_first_byte(30.0))

    with pytest.raises(httpx.ReadTimeout):
        http.post("/v1/messages", json=body(), timeout=0.2)


def test_slow_first_byte_then_the_answer(fake: FakeAnthropic, http: httpx.Client) -> None:
    fake.enqueue(Fault.slow_first_byte(0.05))

    assert http.post("/v1/messages", json=body()).status_code == 200
    assert fake.requests[0].fault == Fault.slow_first_byte(0.05)


def test_stream_error_event_after_some_deltas(fake: FakeAnthropic, http: httpx.Client) -> None:
    fake.enqueue(Fault.stream_error("overloaded_error", after_deltas=2))

    events = sse_events(http.post("/v1/messages", json=body(stream=True)).text)

    names = [name for name, _ in events]
    assert names.count("content_block_delta") == 2
    assert names[-1] == "error"
    assert events[-1][1] == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }


def test_stream_error_strikes_before_the_end_of_a_short_answer(
    fake: FakeAnthropic, http: httpx.Client
) -> None:
    fake.enqueue(Fault.stream_error("api_error", after_deltas=100))

    names = [name for name, _ in sse_events(http.post("/v1/messages", json=body(stream=True)).text)]

    assert names.count("content_block_delta") == 4
    assert names[-2:] == ["content_block_stop", "error"]


def test_stream_error_on_a_plain_request_is_the_matching_status(
    fake: FakeAnthropic, http: httpx.Client
) -> None:
    fake.enqueue(Fault.stream_error("overloaded_error"))

    assert http.post("/v1/messages", json=body()).status_code == 529


def test_api_key_is_checked_when_set() -> None:
    with (
        FakeAnthropic(api_key="right") as fake,
        httpx.Client(base_url=fake.base_url) as client,
    ):
        wrong = client.post("/v1/messages", json=body(), headers={"x-api-key": "wrong"})
        bearer = client.post("/v1/messages", json=body(), headers={"authorization": "Bearer right"})

    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "authentication_error"
    assert bearer.status_code == 200


def test_prompt_cache_is_written_then_read(http: httpx.Client) -> None:
    system = [{"type": "text", "text": "s" * 400, "cache_control": {"type": "ephemeral"}}]
    long_system = [
        {**system[0], "cache_control": {"type": "ephemeral", "ttl": "1h"}, "text": "t" * 800}
    ]

    first = http.post("/v1/messages", json=body(system=system)).json()["usage"]
    second = http.post("/v1/messages", json=body(system=system)).json()["usage"]
    hour = http.post("/v1/messages", json=body(system=long_system)).json()["usage"]

    assert first["cache_creation_input_tokens"] == 100
    assert first["cache_creation"] == {
        "ephemeral_5m_input_tokens": 100,
        "ephemeral_1h_input_tokens": 0,
    }
    assert first["cache_read_input_tokens"] == 0
    assert first["input_tokens"] == 3
    assert second["cache_read_input_tokens"] == 100
    assert second["cache_creation_input_tokens"] == 0
    assert hour["cache_creation"] == {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": 200,
    }


def test_reset_clears_script_log_and_cache(fake: FakeAnthropic, http: httpx.Client) -> None:
    fake.enqueue(Fault.status(529))
    http.post("/v1/messages", json=body(model="claude-opus-5"))
    fake.enqueue(Fault.status(500))

    fake.reset()

    assert fake.requests == []
    assert fake.pending == 0
    assert http.post("/v1/messages", json=body()).status_code == 200


def test_port_is_only_known_while_running() -> None:
    fake = FakeAnthropic()
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.base_url
    with fake:
        assert fake.port > 0
        assert fake.base_url == f"http://127.0.0.1:{fake.port}"


# -- the official SDK as a client -----------------------------------------------------------


def test_sdk_create(fake: FakeAnthropic, sdk: anthropic.Anthropic) -> None:
    message = sdk.messages.create(**body("hi"))

    assert message.content[0].type == "text"
    assert message.content[0].text == f"Fake reply from {MODEL}. You said: hi"
    assert message.usage.input_tokens == 1
    assert message.usage.cache_creation is not None
    assert message._request_id is not None
    assert message._request_id.startswith("req_")


def test_sdk_stream_helper_assembles_the_text(sdk: anthropic.Anthropic) -> None:
    with sdk.messages.stream(**body("hi")) as stream:
        chunks = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(chunks) == 4
    assert "".join(chunks) == f"Fake reply from {MODEL}. You said: hi"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == -(-len("".join(chunks)) // 4)


def test_sdk_beta_messages(fake: FakeAnthropic, sdk: anthropic.Anthropic) -> None:
    message = sdk.beta.messages.create(**body(), betas=["context-1m-2025-08-07"])

    assert message.model == MODEL
    assert fake.requests[0].path == "/v1/messages"  # this SDK sends no ?beta=true (older ones did)
    assert fake.requests[0].headers["anthropic-beta"] == "context-1m-2025-08-07"


def test_sdk_count_tokens_and_models(sdk: anthropic.Anthropic) -> None:
    counted = sdk.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "abcd"}])
    models = [model.id for model in sdk.models.list()]

    assert counted.input_tokens == 1
    assert MODEL in models


def test_sdk_sees_overloaded_as_its_overloaded_error(
    fake: FakeAnthropic, sdk: anthropic.Anthropic
) -> None:
    fake.enqueue(Fault.status(529))

    with pytest.raises(anthropic.OverloadedError) as caught:
        sdk.messages.create(**body())

    assert caught.value.status_code == 529
    assert caught.value.type == "overloaded_error"
    assert caught.value.request_id is not None


async def test_serves_on_the_running_loop() -> None:
    async with (
        FakeAnthropic() as fake,
        anthropic.AsyncAnthropic(api_key="test", base_url=fake.base_url, max_retries=0) as sdk,
    ):
        message = await sdk.messages.create(**body())
        fake.enqueue(Fault.slow_first_byte(30.0))
        with pytest.raises(anthropic.APITimeoutError):
            await sdk.messages.create(**body(), timeout=0.2)

    assert message.model == MODEL
    assert len(fake.requests) == 2


async def test_background_server_is_usable_from_async_code(fake: FakeAnthropic) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        response = await client.post("/v1/messages", json=body())

    assert response.status_code == 200


# -- options and the command ----------------------------------------------------------------


def test_reply_output_tokens_chunks_and_bounded_log() -> None:
    with (
        FakeAnthropic(reply="abcdefgh", output_tokens=99, stream_chunks=2, keep_requests=2) as fake,
        httpx.Client(base_url=fake.base_url) as client,
    ):
        message = client.post("/v1/messages", json=body()).json()
        events = sse_events(client.post("/v1/messages", json=body(stream=True)).text)
        client.post("/v1/messages", json=body())
        seen = fake.requests

    assert message["content"][0]["text"] == "abcdefgh"
    assert message["usage"]["output_tokens"] == 99
    deltas = [data["delta"]["text"] for name, data in events if name == "content_block_delta"]
    assert deltas == ["abcd", "efgh"]
    assert len(seen) == 2
    assert seen[0].stream


def test_max_tokens_cuts_the_default_answer(http: httpx.Client) -> None:
    message = http.post("/v1/messages", json={**body("x" * 100), "max_tokens": 2}).json()

    assert message["stop_reason"] == "max_tokens"
    assert len(message["content"][0]["text"]) == 8


def test_a_port_in_use_is_an_error_at_start(fake: FakeAnthropic) -> None:
    with pytest.raises(RuntimeError, match="could not start"):
        FakeAnthropic(port=fake.port).start()
