"""Events for the telemetry tests: a minimal one, and one with every field set."""

from __future__ import annotations

import uuid

from ctxrouter.telemetry import Event, Outcome

T0 = 1_800_000_000.0


def make_event(**overrides: object) -> Event:
    values: dict[str, object] = {
        "event_id": uuid.uuid4().hex,
        "ts": T0,
        "run_id": "run-1",
        "agent": "code-reviewer",
        "model": "claude-sonnet-5-5",
        "tier": "sonnet",
        "outcome": Outcome.SUCCESS,
    }
    values.update(overrides)
    return Event(**values)  # type: ignore[arg-type]


def full_event() -> Event:
    """Every field away from its default."""
    return Event(
        event_id="e-full",
        ts=T0 + 0.123456789,
        run_id="run-full",
        agent="security-auditor",
        model="claude-opus-5-5",
        tier="opus",
        outcome=Outcome.REJECTED,
        attempt=3,
        task_id="task-9",
        pipeline="review",
        step="audit",
        category="security",
        provider="anthropic",
        user="ana",
        session_id="s-1",
        input_tokens=123_456,
        output_tokens=7_890,
        cache_creation_5m_tokens=11,
        cache_creation_1h_tokens=22,
        cache_read_tokens=33,
        cost_usd=0.1 + 0.2,
        latency_ms=1234.5678,
        ttft_ms=0.0,
        error_type="overloaded",
        status_code=529,
        escalated_from="sonnet",
        fallback_from="claude-sonnet-5-5",
        experiment_arm="B",
        confidence=0.0,
        stream=True,
        batch=True,
        request_id="req_1",
        prompt_chars=4,
        prompt_sha256="a" * 64,
        output_chars=5,
        output_sha256="b" * 64,
        prompt_text="héllo ✓ 'quoted' \"x\"; DROP TABLE events; -- 100% ? %s",
        output_text="",
        requested_model="claude-opus-5-5",
        route_reason="escalated: the validator rejected the answer",
        message_id="msg_01full",
    )
