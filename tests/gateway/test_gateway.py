"""The gateway between the official SDK and the fake upstream, both on loopback."""

from __future__ import annotations

import anthropic
import httpx
import pytest
from anthropic.types import TextBlockParam

from ctxrouter.telemetry.event import Outcome
from ctxrouter.testing.fake_anthropic import Fault

from .conftest import Setup, StartGateway

SIMPLE_CODE_TASK = "Write a Python function that adds two numbers."


def test_healthz(gateway: Setup) -> None:
    answer = httpx.get(f"{gateway.url}/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_non_streaming_message_passes_through_untouched(gateway: Setup) -> None:
    system: list[TextBlockParam] = [
        {"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}},
    ]
    message = gateway.client().messages.create(
        model="claude-sonnet-5-5",
        max_tokens=64,
        system=system,
        messages=[{"role": "user", "content": "Say hello to the gateway."}],
        metadata={"user_id": "u-1"},
        extra_body={"some_future_field": {"keep": [1, 2]}},
    )
    assert message.content[0].type == "text"
    assert "Say hello to the gateway." in message.content[0].text

    sent = gateway.fake.requests[-1]
    assert sent.path == "/v1/messages"
    credential = sent.headers.get("x-api-key") or sent.headers.get("authorization")
    assert credential in ("sk-test", "Bearer sk-test")
    assert "anthropic-version" in sent.headers
    assert sent.body["model"] == "claude-sonnet-5-5"  # agent "main" is not in the catalog
    assert sent.body["system"] == system  # cache_control and all, untouched
    assert sent.body["metadata"] == {"user_id": "u-1"}
    assert sent.body["some_future_field"] == {"keep": [1, 2]}

    (event,) = gateway.events
    assert event.agent == "main"
    assert event.model == "claude-sonnet-5-5"
    assert event.tier == "sonnet"
    assert event.provider == "gateway"
    assert event.outcome is Outcome.SUCCESS
    assert event.status_code == 200
    assert not event.stream
    assert event.input_tokens == message.usage.input_tokens
    assert event.output_tokens == message.usage.output_tokens
    assert event.cache_creation_5m_tokens == message.usage.cache_creation_input_tokens
    assert event.cost_usd is not None and event.cost_usd > 0


def test_beta_query_and_headers_are_forwarded(gateway: Setup) -> None:
    answer = httpx.post(
        f"{gateway.url}/v1/messages?beta=true",
        json={
            "model": "claude-haiku-5-5",
            "max_tokens": 16,
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers={
            "x-api-key": "sk-test",
            "anthropic-version": "2023-06-01",
            "anthropic-beta": "context-1m-2025-08-07",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["request-id"].startswith("req_")
    sent = gateway.fake.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.query == {"beta": "true"}
    assert sent.headers["anthropic-beta"] == "context-1m-2025-08-07"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["x-api-key"] == "sk-test"


def test_streaming_relays_text_and_records_usage(gateway: Setup) -> None:
    with gateway.client().messages.stream(
        model="claude-sonnet-5-5",
        max_tokens=64,
        messages=[{"role": "user", "content": "Stream this sentence back, please."}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert "Stream this sentence back, please." in text
    assert gateway.fake.requests[-1].stream

    (event,) = gateway.events
    assert event.stream
    assert event.outcome is Outcome.SUCCESS
    assert event.model == "claude-sonnet-5-5"
    assert event.input_tokens == final.usage.input_tokens > 0
    assert event.output_tokens == final.usage.output_tokens > 0
    assert event.ttft_ms is not None
    assert event.cost_usd is not None and event.cost_usd > 0


def test_known_agent_gets_the_routed_model(gateway: Setup) -> None:
    client = gateway.client(default_headers={"x-ctxrouter-agent": "python-pro"})
    message = client.messages.create(
        model="claude-sonnet-5-5",
        max_tokens=64,
        messages=[{"role": "user", "content": SIMPLE_CODE_TASK}],
    )
    assert gateway.fake.requests[-1].body["model"] == "claude-haiku-5-5"
    assert message.model == "claude-haiku-5-5"
    (event,) = gateway.events
    assert event.agent == "python-pro"
    assert event.model == "claude-haiku-5-5"
    assert event.tier == "haiku"


def test_a_model_above_a_known_agents_tiers_is_brought_to_the_routed_tier(
    gateway: Setup,
) -> None:
    client = gateway.client(default_headers={"x-ctxrouter-agent": "python-pro"})
    client.messages.create(
        model="claude-opus-5-5",  # python-pro may use haiku or sonnet only
        max_tokens=16,
        messages=[{"role": "user", "content": SIMPLE_CODE_TASK}],
    )
    assert gateway.fake.requests[-1].body["model"] == "claude-haiku-5-5"
    assert (gateway.events[-1].route_reason or "").startswith("ceiling: claude-opus-5-5 (opus)")


def test_unknown_agent_keeps_the_clients_model(gateway: Setup) -> None:
    client = gateway.client(default_headers={"x-ctxrouter-agent": "no-such-agent"})
    client.messages.create(
        model="claude-sonnet-5-5",
        max_tokens=16,
        messages=[{"role": "user", "content": SIMPLE_CODE_TASK}],
    )
    assert gateway.fake.requests[-1].body["model"] == "claude-sonnet-5-5"
    assert gateway.events[-1].agent == "no-such-agent"


def test_upstream_overload_reaches_the_client_when_retries_run_out(
    start_gateway: StartGateway,
) -> None:
    # the run-wide attempt budget (retry.run_max_attempts) holds at the gateway too
    gateway = start_gateway(settings={"retry": {"run_max_attempts": 3}})
    gateway.fake.enqueue(*[Fault.status(529)] * 4)
    with pytest.raises(anthropic.InternalServerError) as caught:
        gateway.client().messages.create(
            model="claude-sonnet-5-5",
            max_tokens=16,
            messages=[{"role": "user", "content": "hi"}],
        )
    assert caught.value.status_code == 529
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error"]["type"] == "overloaded_error"
    assert len(gateway.fake.requests) == 3  # the run's 3 tries; the client made one
    assert [e.attempt for e in gateway.events] == [1, 2, 3]
    assert len({e.run_id for e in gateway.events}) == 1
    for event in gateway.events:
        assert event.outcome is Outcome.ERROR
        assert event.status_code == 529
        assert event.error_type == "overloaded"
        assert event.cost_usd is None


def test_stream_error_event_is_relayed_and_recorded(gateway: Setup) -> None:
    gateway.fake.enqueue(Fault.stream_error("overloaded_error"))
    with (
        pytest.raises(anthropic.APIStatusError),
        gateway.client().messages.stream(
            model="claude-sonnet-5-5",
            max_tokens=64,
            messages=[{"role": "user", "content": "A long enough sentence to stream in parts."}],
        ) as stream,
    ):
        stream.get_final_message()
    (event,) = gateway.events
    assert event.stream
    assert event.outcome is Outcome.ERROR
    assert event.error_type == "overloaded"


def test_malformed_json_is_a_400_in_the_anthropic_format(gateway: Setup) -> None:
    answer = httpx.post(
        f"{gateway.url}/v1/messages",
        content=b'{"model": "claude-sonnet-5-5", ',
        headers={"content-type": "application/json", "x-api-key": "sk-test"},
    )
    assert answer.status_code == 400
    payload = answer.json()
    assert payload["type"] == "error"
    assert payload["error"]["type"] == "invalid_request_error"
    assert gateway.fake.requests == []


def test_count_tokens_and_models_are_forwarded(gateway: Setup) -> None:
    client = gateway.client()
    counted = client.messages.count_tokens(
        model="claude-sonnet-5-5", messages=[{"role": "user", "content": "count me"}]
    )
    assert counted.input_tokens > 0
    assert gateway.fake.requests[-1].path == "/v1/messages/count_tokens"
    models = client.models.list()
    assert [m.id for m in models.data]
    assert gateway.fake.requests[-1].path == "/v1/models"
    assert gateway.events == []  # only message requests are recorded
