"""End to end: Runtime -> executor -> official SDK -> fake Anthropic API on loopback -> SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxrouter import RouteRequest, Settings
from ctxrouter.execution.runtime import Runtime
from ctxrouter.policy import Tier
from ctxrouter.telemetry.event import Outcome
from ctxrouter.telemetry.feedback import record_feedback
from ctxrouter.telemetry.sqlite import SQLiteStore
from ctxrouter.telemetry.store import EventQuery
from ctxrouter.testing.fake_anthropic import FakeAnthropic, Fault

SECRET = "the launch code is 0000"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def anthropic_settings(tmp_path: Path, fake: FakeAnthropic, **runtime: object) -> Settings:
    return Settings.load(
        data_dir=tmp_path / "data",
        providers={
            "default": "anthropic",
            "anthropic_base_url": fake.base_url,
            "anthropic_api_key": "sk-test",
        },
        retry={"base_delay_s": 0.0},
        runtime=runtime,
    )


async def test_faults_retries_fallback_and_events_equal_attempts(
    tmp_path: Path, fake: FakeAnthropic
) -> None:
    settings = anthropic_settings(tmp_path, fake)
    fake.enqueue(
        Fault.status(529),
        Fault.status(429, retry_after=0),
        Fault.status(500),  # haiku has had its 3 tries: fall back to sonnet
        Fault.ok(text="def handler(): ...\nCONFIDENCE: 0.9"),
    )
    async with Runtime.open(settings) as runtime:
        result = await runtime.run(
            RouteRequest(task=f"Implement the endpoints. {SECRET}", agent="python-pro")
        )
    assert result.accepted and result.text == "def handler(): ..."
    assert result.model == "claude-sonnet-5-5"
    served = [r for r in fake.requests if r.path == "/v1/messages"]
    assert [r.model for r in served] == ["claude-haiku-5-5"] * 3 + ["claude-sonnet-5-5"]
    with SQLiteStore(settings.database_path) as store:
        events = store.events(EventQuery(run_id=result.run_id))
    assert len(events) == len(served) == result.attempts == 4
    assert [e.status_code for e in events] == [529, 429, 500, None]
    assert [e.outcome for e in events] == [Outcome.ERROR] * 3 + [Outcome.SUCCESS]
    assert events[-1].fallback_from == "claude-haiku-5-5"
    assert events[-1].cost_usd is not None and events[-1].cost_usd > 0
    for event in events:  # sizes and hashes only, never the text
        assert event.prompt_text is None and event.output_text is None
        assert event.prompt_chars > len(SECRET) and event.prompt_sha256
    assert SECRET.encode() not in settings.database_path.read_bytes()


async def test_streaming_run_records_usage_and_ttft(tmp_path: Path, fake: FakeAnthropic) -> None:
    settings = anthropic_settings(tmp_path, fake)
    async with Runtime.open(settings) as runtime:
        from ctxrouter.execution.result import RunOptions

        result = await runtime.run(
            RouteRequest(task="Write the README", agent="technical-writer"),
            RunOptions(stream=True),
        )
    [event] = result.events
    assert event.stream and event.ttft_ms is not None and event.ttft_ms <= event.latency_ms
    assert event.input_tokens > 0 and event.output_tokens > 0
    assert event.cost_usd is not None and event.cost_usd > 0  # a stream is never $0
    assert fake.requests[-1].body["stream"] is True


async def test_low_confidence_escalates_over_http(tmp_path: Path, fake: FakeAnthropic) -> None:
    settings = anthropic_settings(tmp_path, fake)
    fake.enqueue(Fault.ok(text="maybe\nCONFIDENCE: 0.3"), Fault.ok(text="surely\nCONFIDENCE: 0.95"))
    async with Runtime.open(settings) as runtime:
        result = await runtime.run(RouteRequest(task="Write tests", agent="test-automator"))
    assert result.text == "surely" and result.tier == Tier.SONNET.value
    assert [e.outcome for e in result.events] == [Outcome.REJECTED, Outcome.SUCCESS]
    assert [r.model for r in fake.requests] == ["claude-haiku-5-5", "claude-sonnet-5-5"]


async def test_corrections_escalate_the_agent_next_time(tmp_path: Path) -> None:
    settings = Settings.load(
        data_dir=tmp_path / "data", runtime={"correction_min": 2, "correction_rate": 0.5}
    )
    request = RouteRequest(task="Add a helper to parse dates", agent="python-pro")
    async with Runtime.open(settings) as runtime:
        first = [await runtime.run(request) for _ in range(3)]
    assert {r.decision.tier for r in first} == {Tier.HAIKU}
    with SQLiteStore(settings.database_path) as store:
        for result in first[:2]:
            record_feedback(store, result.run_id, correction="wrong timezone handling")
    async with Runtime.open(settings) as runtime:
        again = await runtime.run(request)
    assert again.decision.tier is Tier.SONNET
    step = next(s for s in again.decision.trace if s.stage == "corrections")
    assert "2 corrections in 3 recent runs" in step.reason
