"""Message Batches: AnthropicProvider.run_batch and MessageBatcher, through the official SDK,
against the fake Anthropic server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import pytest

from ctxrouter import errors
from ctxrouter.clock import VirtualClock
from ctxrouter.errors import ConfigError, InputError, ProviderError
from ctxrouter.models.pricing import Usage
from ctxrouter.providers.anthropic import AnthropicProvider
from ctxrouter.providers.base import Message, ModelCall, ModelResponse, Provider
from ctxrouter.providers.batching import MessageBatcher
from ctxrouter.providers.simulated import SimulatedProvider
from ctxrouter.testing import FakeAnthropic, Fault, RecordedRequest, fake_anthropic_server

MODEL = "claude-haiku-4-5"
KEY = "test-key"
BATCHES = "/v1/messages/batches"


def call(text: str = "hello there", **options: Any) -> ModelCall:
    fields: dict[str, Any] = {"model": MODEL, "messages": (Message("user", text),), **options}
    return ModelCall(**fields)


def reply(text: str, model: str = MODEL) -> str:
    return f"Fake reply from {model}. You said: {text}"


class Waits:
    """A ``sleep`` for tests: records every wait and returns at once, except waits of ``hold``
    seconds, which last until :meth:`release`."""

    def __init__(self, hold: float | None = None) -> None:
        self.seen: list[float] = []
        self._hold = hold
        self._gate = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.seen.append(seconds)
        if seconds == self._hold:
            await self._gate.wait()
        else:
            await asyncio.sleep(0)

    def release(self) -> None:
        self._gate.set()


def created_batches(fake: FakeAnthropic) -> list[RecordedRequest]:
    return [r for r in fake.requests if (r.method, r.path) == ("POST", BATCHES)]


def batch_sizes(fake: FakeAnthropic) -> list[int]:
    return [len(r.body["requests"]) for r in created_batches(fake)]


async def until(condition: Any) -> None:
    """Let other tasks run until ``condition()`` holds (no wall-clock wait)."""
    while not condition():
        await asyncio.sleep(0)


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    yield from fake_anthropic_server(FakeAnthropic(api_key=KEY))


@pytest.fixture
async def provider(fake: FakeAnthropic) -> AsyncIterator[AnthropicProvider]:
    async with AnthropicProvider(api_key=KEY, base_url=fake.base_url) as provider:
        yield provider


def batcher_for(fake: FakeAnthropic, waits: Waits, **options: Any) -> MessageBatcher:
    provider = AnthropicProvider(api_key=KEY, base_url=fake.base_url)
    return MessageBatcher(provider, sleep=waits.sleep, **options)


# -- run_batch ------------------------------------------------------------------------------


async def test_run_batch_answers_every_call_with_usage(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    calls = [(f"q{n}", call(f"question {n}")) for n in range(3)]

    results = await provider.run_batch(calls, sleep=VirtualClock().sleep)

    assert list(results) == ["q0", "q1", "q2"]
    batch_id = results["q0"].request_id
    for n, response in enumerate(results.values()):
        assert isinstance(response, ModelResponse)
        assert response.text == reply(f"question {n}")
        assert response.model == MODEL
        assert response.stop_reason == "end_turn"
        assert response.usage == Usage(input_tokens=3, output_tokens=-(-len(response.text) // 4))
        assert response.latency_s > 0
        assert response.request_id == batch_id
    assert batch_id is not None
    assert batch_id.startswith("msgbatch_")
    assert [(r.method, r.path.removeprefix(BATCHES)) for r in fake.requests] == [
        ("POST", ""),  # create
        ("GET", f"/{batch_id}"),  # in progress
        ("GET", f"/{batch_id}"),  # ended
        ("GET", f"/{batch_id}"),  # the SDK's results() retrieves first
        ("GET", f"/{batch_id}/results"),
    ]


async def test_run_batch_sends_what_complete_would(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    conversation = (
        Message("user", "Hi"),
        Message("assistant", "Hello!"),
        Message("user", "Sum up"),
    )
    model_call = ModelCall(
        model=MODEL,
        messages=conversation,
        system="You are terse.",
        max_tokens=321,
        temperature=0.2,
        stream=True,  # batches do not stream: ignored
        extra={"metadata": {"user_id": "u-1"}},
    )

    await provider.run_batch([("only", model_call)], sleep=VirtualClock().sleep)

    [created] = created_batches(fake)
    assert created.body == {
        "requests": [
            {
                "custom_id": "only",
                "params": {
                    "model": MODEL,
                    "max_tokens": 321,
                    "messages": [
                        {"role": "user", "content": "Hi"},
                        {"role": "assistant", "content": "Hello!"},
                        {"role": "user", "content": "Sum up"},
                    ],
                    "system": "You are terse.",
                    "temperature": 0.2,
                    "metadata": {"user_id": "u-1"},
                },
            }
        ]
    }
    assert created.headers["authorization"] == f"Bearer {KEY}"


async def test_cache_tokens_in_batch_results(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 2000,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
    }
    fake.enqueue(Fault.ok("ok", usage=usage))

    results = await provider.run_batch([("a", call())], sleep=VirtualClock().sleep)

    assert results["a"] == ModelResponse(
        text="ok",
        model=MODEL,
        usage=Usage(
            input_tokens=10,
            output_tokens=5,
            cache_creation_5m_tokens=100,
            cache_creation_1h_tokens=200,
            cache_read_tokens=2000,
        ),
        latency_s=results["a"].latency_s,
        stop_reason="end_turn",
        request_id=results["a"].request_id,
    )


@pytest.mark.parametrize(
    ("fault", "error_class", "status", "error_type", "retryable"),
    [
        (Fault.status(400), errors.BadRequestError, 400, "invalid_request_error", False),
        (Fault.status(404), errors.NotFoundError, 404, "not_found_error", False),
        (Fault.status(429), errors.RateLimitError, 429, "rate_limit_error", False),
        (Fault.status(500), errors.InternalServerError, 500, "api_error", True),
        (Fault.status(503), errors.InternalServerError, 500, "api_error", True),  # by type
        (Fault.status(529), errors.OverloadedError, 529, "overloaded_error", True),
        (Fault.stream_error(), errors.OverloadedError, 529, "overloaded_error", True),
        (Fault.reset(), errors.InternalServerError, 500, "api_error", True),
    ],
)
async def test_errored_request_maps_to_its_provider_error(
    fake: FakeAnthropic,
    provider: AnthropicProvider,
    fault: Fault,
    error_class: type[ProviderError],
    status: int,
    error_type: str,
    retryable: bool,
) -> None:
    fake.enqueue(Fault.ok(), fault)  # the second request of the batch fails

    results = await provider.run_batch(
        [("first", call("one")), ("second", call("two")), ("third", call("three"))],
        sleep=VirtualClock().sleep,
    )

    error = results["second"]
    assert type(error) is error_class
    assert error.status == status
    assert error.error_type == error_type
    assert error.retryable is retryable
    assert error.model == MODEL
    assert error.provider == "anthropic"
    assert isinstance(error.body, dict)
    assert error.body["error"]["type"] == error_type
    assert "'second'" in str(error)
    assert isinstance(results["first"], ModelResponse)
    assert isinstance(results["third"], ModelResponse)
    assert results["third"].text == reply("three")


async def test_invalid_params_and_magic_models_error_per_request(
    provider: AnthropicProvider,
) -> None:
    results = await provider.run_batch(
        [
            ("ok", call()),
            ("negative", call(max_tokens=-1)),
            ("overloaded", call(model="fake-529")),
        ],
        sleep=VirtualClock().sleep,
    )

    assert isinstance(results["ok"], ModelResponse)
    assert isinstance(results["negative"], errors.BadRequestError)
    assert "max_tokens" in str(results["negative"])
    assert isinstance(results["overloaded"], errors.OverloadedError)
    assert results["overloaded"].model == "fake-529"


async def test_expired_request_is_a_retryable_timeout(
    fake: FakeAnthropic, provider: AnthropicProvider
) -> None:
    fake.enqueue(Fault.expired())

    results = await provider.run_batch(
        [("late", call()), ("fine", call())], sleep=VirtualClock().sleep
    )

    error = results["late"]
    assert isinstance(error, errors.APITimeoutError)
    assert error.error_type == "expired"
    assert error.retryable
    assert "expired" in str(error)
    assert isinstance(results["fine"], ModelResponse)


async def test_batch_canceled_elsewhere_gives_canceled_errors(fake: FakeAnthropic) -> None:
    async with (
        AnthropicProvider(api_key=KEY, base_url=fake.base_url) as provider,
        anthropic.AsyncAnthropic(api_key=KEY, base_url=fake.base_url, max_retries=0) as other,
    ):

        async def cancel_while_waiting(seconds: float) -> None:  # someone cancels in the console
            async for batch in other.messages.batches.list():
                await other.messages.batches.cancel(batch.id)

        results = await provider.run_batch(
            [("a", call()), ("b", call())], sleep=cancel_while_waiting
        )

    for error in results.values():
        assert type(error) is ProviderError
        assert error.error_type == "canceled"
        assert not error.retryable
        assert "canceled" in str(error)


async def test_polls_every_interval_until_the_batch_has_ended() -> None:
    waits = Waits()
    with FakeAnthropic(batch_polls=4) as fake:
        async with AnthropicProvider(api_key="k", base_url=fake.base_url) as provider:
            results = await provider.run_batch(
                [("a", call())], poll_interval_s=60, sleep=waits.sleep
            )
        retrieves = [r for r in fake.requests if r.method == "GET" and r.path.count("/") == 4]

    assert isinstance(results["a"], ModelResponse)
    assert waits.seen == [60, 60, 60, 60]  # a sleep before each retrieve
    assert len(retrieves) == 5  # 4 polls, the 4th sees it ended; then the SDK's results()


async def test_batch_that_does_not_end_in_time_is_canceled() -> None:
    waits = Waits()
    with FakeAnthropic(batch_polls=None) as fake:  # never ends by itself
        async with AnthropicProvider(api_key="k", base_url=fake.base_url) as provider:
            with pytest.raises(errors.APITimeoutError) as caught:
                await provider.run_batch(
                    [("a", call())], poll_interval_s=40, timeout_s=100, sleep=waits.sleep
                )
        last = fake.requests[-1]

    assert waits.seen == [40, 40, 20]
    assert caught.value.error_type == "batch_timeout"
    assert caught.value.retryable
    assert caught.value.request_id is not None
    assert caught.value.request_id.startswith("msgbatch_")
    assert "timeout_s" in str(caught.value)
    assert (last.method, last.path) == ("POST", f"{BATCHES}/{caught.value.request_id}/cancel")


async def test_errors_creating_the_batch_are_provider_errors(fake: FakeAnthropic) -> None:
    async with AnthropicProvider(api_key="wrong", base_url=fake.base_url) as provider:
        with pytest.raises(errors.AuthenticationError) as caught:
            await provider.run_batch([("a", call())], sleep=VirtualClock().sleep)

    assert caught.value.status == 401
    assert caught.value.model == MODEL


async def test_a_refused_connection_is_an_api_connection_error() -> None:
    with FakeAnthropic() as fake:
        base_url = fake.base_url  # nothing listens there once stopped

    async with AnthropicProvider(api_key="k", base_url=base_url) as provider:
        with pytest.raises(errors.APIConnectionError):
            await provider.run_batch([("a", call())], sleep=VirtualClock().sleep)


async def test_bad_custom_ids(fake: FakeAnthropic, provider: AnthropicProvider) -> None:
    with pytest.raises(InputError, match="'a' is used more than once"):
        await provider.run_batch([("a", call()), ("a", call())])
    with pytest.raises(errors.BadRequestError, match="custom_id"):
        await provider.run_batch([("not valid!", call())])
    assert await provider.run_batch([]) == {}
    assert len(fake.requests) == 1  # only the invalid custom_id reached the server


# -- MessageBatcher -------------------------------------------------------------------------


async def test_batcher_is_a_provider_named_after_the_wrapped_one(fake: FakeAnthropic) -> None:
    async with batcher_for(fake, Waits()) as batcher:
        assert isinstance(batcher, Provider)
        assert batcher.name == "anthropic-batch"


async def test_concurrent_calls_go_in_one_batch(fake: FakeAnthropic) -> None:
    waits = Waits(hold=2.0)  # the max_wait_s timer never fires: max_batch sends the batch
    async with batcher_for(fake, waits, max_batch=5) as batcher:
        responses = await asyncio.gather(*(batcher.complete(call(f"q {n}")) for n in range(5)))

    assert [r.text for r in responses] == [reply(f"q {n}") for n in range(5)]
    assert batch_sizes(fake) == [5]
    assert all(r.usage.output_tokens > 0 and r.latency_s > 0 for r in responses)


async def test_max_batch_splits_the_calls(fake: FakeAnthropic) -> None:
    waits = Waits(hold=2.0)
    async with batcher_for(fake, waits, max_batch=3) as batcher:
        tasks = [asyncio.create_task(batcher.complete(call(f"q {n}"))) for n in range(7)]
        await until(lambda: batch_sizes(fake) == [3, 3] and batcher.pending == 1)
        waits.release()  # max_wait_s has passed: the 7th call goes on its own
        responses = await asyncio.gather(*tasks)

    assert [r.text for r in responses] == [reply(f"q {n}") for n in range(7)]
    assert batch_sizes(fake) == [3, 3, 1]


async def test_partial_batch_is_sent_after_max_wait(fake: FakeAnthropic) -> None:
    waits = Waits(hold=2.0)
    async with batcher_for(fake, waits, max_batch=100, max_wait_s=2.0) as batcher:
        tasks = [asyncio.create_task(batcher.complete(call(f"q {n}"))) for n in range(3)]
        await until(lambda: batcher.pending == 3)
        assert fake.requests == []  # nothing is sent before max_wait_s

        waits.release()
        responses = await asyncio.gather(*tasks)

    assert waits.seen[0] == 2.0
    assert [r.text for r in responses] == [reply(f"q {n}") for n in range(3)]
    assert batch_sizes(fake) == [3]


async def test_a_failed_request_fails_only_its_caller(fake: FakeAnthropic) -> None:
    fake.enqueue(Fault.ok(), Fault.status(529))
    async with batcher_for(fake, Waits(hold=2.0), max_batch=3) as batcher:
        outcomes = await asyncio.gather(
            *(batcher.complete(call(f"q {n}")) for n in range(3)), return_exceptions=True
        )

    assert isinstance(outcomes[0], ModelResponse)
    assert isinstance(outcomes[1], errors.OverloadedError)
    assert isinstance(outcomes[2], ModelResponse)
    assert batch_sizes(fake) == [3]


async def test_a_batch_that_cannot_be_created_fails_every_caller(fake: FakeAnthropic) -> None:
    provider = AnthropicProvider(api_key="wrong", base_url=fake.base_url)
    async with MessageBatcher(provider, max_batch=2, sleep=Waits().sleep) as batcher:
        outcomes = await asyncio.gather(
            *(batcher.complete(call()) for _ in range(2)), return_exceptions=True
        )

    assert all(isinstance(o, errors.AuthenticationError) for o in outcomes)


async def test_aclose_sends_what_is_queued(fake: FakeAnthropic) -> None:
    batcher = batcher_for(fake, Waits(hold=2.0))
    tasks = [asyncio.create_task(batcher.complete(call(f"q {n}"))) for n in range(2)]
    await until(lambda: batcher.pending == 2)

    await batcher.aclose()

    assert [t.result().text for t in tasks] == [reply("q 0"), reply("q 1")]
    assert batch_sizes(fake) == [2]
    with pytest.raises(RuntimeError, match="after aclose"):
        await batcher.complete(call())


async def test_aclose_without_flush_fails_the_callers_and_cancels_the_batch() -> None:
    with FakeAnthropic(batch_polls=None) as fake:  # the batch never ends by itself
        batcher = MessageBatcher(
            AnthropicProvider(api_key="k", base_url=fake.base_url),
            max_batch=2,
            sleep=Waits(hold=2.0).sleep,
        )
        sent = [asyncio.create_task(batcher.complete(call(f"q {n}"))) for n in range(2)]
        queued = asyncio.create_task(batcher.complete(call("q 2")))
        await until(lambda: batcher.in_flight == 1 and batcher.pending == 1)
        await until(lambda: any(r.method == "GET" for r in fake.requests))  # it is polling

        await batcher.aclose(flush=False)
        outcomes = await asyncio.gather(*sent, queued, return_exceptions=True)
        requests = fake.requests

    for outcome in outcomes:
        assert isinstance(outcome, ProviderError)
        assert outcome.error_type == "closed"
    assert batch_sizes(fake) == [2]
    assert requests[-1].method == "POST"
    assert requests[-1].path.endswith("/cancel")  # not billed for answers nobody reads


async def test_a_provider_without_run_batch_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'simulated' cannot run Message Batches"):
        MessageBatcher(SimulatedProvider())


@pytest.mark.parametrize("options", [{"max_batch": 0}, {"max_batch": 100_001}, {"max_wait_s": -1}])
async def test_bad_batcher_options_are_config_errors(
    fake: FakeAnthropic, options: dict[str, Any]
) -> None:
    async with AnthropicProvider(api_key=KEY, base_url=fake.base_url) as provider:
        with pytest.raises(ConfigError):
            MessageBatcher(provider, **options)


# -- the fake's Message Batches endpoints through the SDK -----------------------------------


def test_fake_lists_pages_and_deletes_batches(fake: FakeAnthropic) -> None:
    request = {
        "custom_id": "a",
        "params": {
            "model": MODEL,
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "x"}],
        },
    }
    with anthropic.Anthropic(api_key=KEY, base_url=fake.base_url, max_retries=0) as client:
        ids = [client.messages.batches.create(requests=[request]).id for _ in range(3)]
        listed = [batch.id for batch in client.messages.batches.list(limit=2)]  # 2 pages
        with pytest.raises(anthropic.BadRequestError, match="cancel it first"):
            client.messages.batches.delete(ids[0])
        with pytest.raises(anthropic.BadRequestError, match="in_progress"):
            client.get(f"{BATCHES}/{ids[0]}/results", cast_to=object)
        client.messages.batches.cancel(ids[0])
        ended = client.messages.batches.retrieve(ids[0])
        deleted = client.messages.batches.delete(ids[0])
        with pytest.raises(anthropic.NotFoundError):
            client.messages.batches.retrieve(ids[0])
        with pytest.raises(anthropic.BadRequestError, match="custom_id"):
            client.messages.batches.create(requests=[request, request])

    assert listed == ids[::-1]  # newest first
    assert ended.processing_status == "ended"
    assert ended.request_counts.canceled == 1
    assert ended.cancel_initiated_at is not None
    assert deleted.type == "message_batch_deleted"


def test_fake_batch_ends_after_some_seconds() -> None:
    request = {
        "custom_id": "a",
        "params": {
            "model": MODEL,
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "x"}],
        },
    }
    with (
        FakeAnthropic(batch_polls=None, batch_seconds=0.0) as fake,
        anthropic.Anthropic(api_key="k", base_url=fake.base_url, max_retries=0) as client,
    ):
        batch = client.messages.batches.create(requests=[request])
        ended = client.messages.batches.retrieve(batch.id)
        [line] = list(client.messages.batches.results(batch.id))
        base_url = fake.base_url

    assert batch.processing_status == "in_progress"
    assert batch.request_counts.processing == 1
    assert batch.results_url is None
    assert ended.processing_status == "ended"
    assert ended.request_counts.succeeded == 1
    assert ended.results_url == f"{base_url}{BATCHES}/{batch.id}/results"
    assert line.custom_id == "a"
    assert line.result.type == "succeeded"


def test_expired_fault_outside_a_batch_is_a_504(fake: FakeAnthropic) -> None:
    fake.enqueue(Fault.expired())
    with (
        anthropic.Anthropic(api_key=KEY, base_url=fake.base_url, max_retries=0) as client,
        pytest.raises(anthropic.APIStatusError) as caught,
    ):
        client.messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )

    assert caught.value.status_code == 504
