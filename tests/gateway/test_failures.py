"""Retries and fallbacks before the first byte; pass-through after it."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from ctxrouter.telemetry.event import Outcome
from ctxrouter.testing.fake_anthropic import Fault

from .conftest import Setup, StartGateway

TASK = "Write a Python function that adds two numbers."


def ask(setup: Setup, *, agent: str | None = None, stream: bool = False) -> httpx.Response:
    headers = {"x-api-key": "sk-test"}
    if agent is not None:
        headers["x-ctxrouter-agent"] = agent
    return httpx.post(
        f"{setup.url}/v1/messages",
        json={
            "model": "claude-sonnet-5-5",
            "max_tokens": 64,
            "stream": stream,
            "messages": [{"role": "user", "content": TASK}],
        },
        headers=headers,
        timeout=30,
    )


@pytest.mark.parametrize("fault", [Fault.status(529), Fault.status(500), Fault.reset()])
def test_a_failure_before_the_first_byte_is_retried(gateway: Setup, fault: Fault) -> None:
    gateway.fake.enqueue(fault)
    message = gateway.client().messages.create(
        model="claude-sonnet-5-5", max_tokens=32, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].type == "text"
    assert len(gateway.fake.requests) == 2
    first, second = gateway.events
    assert (first.outcome, second.outcome) == (Outcome.ERROR, Outcome.SUCCESS)
    assert (first.attempt, second.attempt) == (1, 2) and first.run_id == second.run_id
    assert second.cost_usd is not None and first.cost_usd is None


def test_429_waits_for_its_retry_after(gateway: Setup) -> None:
    gateway.fake.enqueue(Fault.status(429, retry_after=0.05))
    assert ask(gateway).status_code == 200
    assert [e.status_code for e in gateway.events] == [429, 200]


def test_429_without_retry_after_or_waiting_too_long_reaches_the_client(
    start_gateway: StartGateway,
) -> None:
    setup = start_gateway(settings={"retry": {"max_retry_after_s": 5}})
    setup.fake.enqueue(Fault.status(429), Fault.status(429, retry_after=3600))
    for _ in range(2):
        answer = ask(setup)
        assert answer.status_code == 429
        assert answer.json()["error"]["type"] == "rate_limit_error"
    assert len(setup.fake.requests) == 2  # neither was retried
    assert answer.headers["retry-after"] == "3600"


def test_a_400_is_never_retried(gateway: Setup) -> None:
    gateway.fake.enqueue(Fault.status(400, message="messages: bad"))
    answer = ask(gateway)
    assert answer.status_code == 400
    assert answer.json()["error"] == {"type": "invalid_request_error", "message": "messages: bad"}
    assert len(gateway.fake.requests) == 1


def test_the_gateway_falls_back_to_the_agents_fallback_tier(gateway: Setup) -> None:
    # python-pro: haiku, falling back to sonnet
    gateway.fake.enqueue(*[Fault.status(529, model="claude-haiku-5-5")] * 3)
    answer = ask(gateway, agent="python-pro")
    assert answer.status_code == 200
    assert answer.json()["model"] == "claude-sonnet-5-5"
    sent = [r.body["model"] for r in gateway.fake.requests]
    assert sent == ["claude-haiku-5-5"] * 3 + ["claude-sonnet-5-5"]
    last = gateway.events[-1]
    assert (last.model, last.fallback_from, last.attempt) == (
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
        4,
    )


def test_a_retry_after_too_long_moves_on_to_the_fallback(gateway: Setup) -> None:
    gateway.fake.enqueue(Fault.status(429, retry_after=3600, model="claude-haiku-5-5"))
    answer = ask(gateway, agent="python-pro")
    assert answer.status_code == 200 and answer.json()["model"] == "claude-sonnet-5-5"
    assert [r.body["model"] for r in gateway.fake.requests] == [
        "claude-haiku-5-5",
        "claude-sonnet-5-5",
    ]


def test_a_stream_that_opens_with_an_error_is_retried(gateway: Setup) -> None:
    gateway.fake.enqueue(Fault.stream_error("overloaded_error", after_deltas=-1))
    with gateway.client().messages.stream(
        model="claude-sonnet-5-5", max_tokens=64, messages=[{"role": "user", "content": TASK}]
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "end_turn"
    assert len(gateway.fake.requests) == 2
    assert [e.error_type for e in gateway.events] == ["overloaded", None]


def test_an_error_after_bytes_is_passed_through_never_spliced(gateway: Setup) -> None:
    gateway.fake.enqueue(Fault.stream_error("overloaded_error", after_deltas=1))
    answer = ask(gateway, stream=True)
    assert answer.status_code == 200
    assert "event: error" in answer.text and "message_start" in answer.text
    assert answer.text.count("event: message_start") == 1
    assert len(gateway.fake.requests) == 1
    (event,) = gateway.events
    assert event.error_type == "overloaded" and event.outcome is Outcome.ERROR
    assert event.input_tokens > 0  # what message_start reported is still counted


def test_sdk_sees_the_upstream_error_unchanged_once_retries_run_out(
    start_gateway: StartGateway,
) -> None:
    gateway = start_gateway(settings={"retry": {"run_max_attempts": 3}})
    gateway.fake.enqueue(*[Fault.status(503)] * 3)
    with pytest.raises(anthropic.InternalServerError) as caught:
        gateway.client().messages.create(
            model="claude-sonnet-5-5", max_tokens=16, messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == 503
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error"]["message"] == "Service unavailable"


def test_the_gateway_rests_a_failing_model_as_the_runtime_does(
    start_gateway: StartGateway,
) -> None:
    # one attempt engine: the breaker (retry.breaker_*) guards the gateway's upstream calls too
    setup = start_gateway(
        settings={
            "retry": {
                "max_attempts": 1,
                "run_max_attempts": 1,
                "breaker_window": 2,
                "breaker_min_calls": 2,
                "breaker_reset_s": 3600,
            }
        }
    )
    setup.fake.enqueue(Fault.status(529), Fault.status(529))
    assert [ask(setup).status_code for _ in range(2)] == [529, 529]
    rested = ask(setup)  # claude-sonnet-5-5's circuit is open: the upstream is spared
    assert rested.status_code == 529
    assert "circuit open for claude-sonnet-5-5" in rested.json()["error"]["message"]
    assert len(setup.fake.requests) == 2
