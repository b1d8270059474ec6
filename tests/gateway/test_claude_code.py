"""The real Claude Code CLI through ``ctxrouter serve`` (a real process) to a fake upstream.

The fake makes the main agent call the Agent tool; Claude Code spawns the project's
``python-pro`` subagent, whose file has no ``model:`` (Claude Code sends its caller's model,
opus). The gateway recognises the subagent by its system prompt, routes it per the catalog's
python-pro policy (haiku for a well-specified task), and records it with tokens and cost.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ctxrouter.telemetry.sqlite import SQLiteStore
from ctxrouter.testing.fake_anthropic import FakeAnthropic
from tests.harness.claude_code import SpawnSubagent, is_subagent_request, run_claude

TASK = "Write a Python function that adds two numbers."
AGENT_FILE = """---
name: python-pro
description: Our Python agent. Use for Python code.
tools: Read, Write
---
You are the team's Python agent. Write small, typed, tested functions and explain nothing.
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Served:
    url: str
    data_dir: Path
    process: subprocess.Popen[str]

    def stop(self) -> str:
        """SIGTERM, as a service manager stops it; returns what it wrote on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=30)
        return err


def serve(project: Path, home: Path, upstream: str) -> Served:
    port = free_port()
    data_dir = project.parent / "data"
    env = {
        **os.environ,
        "HOME": str(home),
        "CTXROUTER_DATA_DIR": str(data_dir),
        "CTXROUTER_RUNTIME__FLUSH_INTERVAL_S": "0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "ctxrouter", "serve", "--port", str(port), "--upstream", upstream],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    while True:  # readiness, not a timed assertion: the process either answers or exits
        if process.poll() is not None:
            raise RuntimeError(f"ctxrouter serve exited: {process.communicate()[1]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Served(url, data_dir, process)
        except httpx.TransportError:
            time.sleep(0.05)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / ".claude" / "agents").mkdir(parents=True)
    (folder / ".claude" / "agents" / "python-pro.md").write_text(AGENT_FILE)
    return folder


@pytest.fixture
def spawn() -> SpawnSubagent:
    return SpawnSubagent("python-pro", TASK)


@pytest.fixture
def upstream(spawn: SpawnSubagent) -> Iterator[FakeAnthropic]:
    with FakeAnthropic(responder=spawn) as fake:
        yield fake


def test_claude_code_through_the_gateway(
    claude_cli: Path,
    project: Path,
    tmp_path: Path,
    spawn: SpawnSubagent,
    upstream: FakeAnthropic,
) -> None:
    home = tmp_path / "home"
    served = serve(project, home, upstream.base_url)
    try:
        run = run_claude(
            "Add a function that adds two numbers, using the python-pro agent.",
            base_url=served.url,
            home=home,
            cwd=project,
            binary=claude_cli,
        )
        metrics = httpx.get(f"{served.url}/metrics")
        dashboard = httpx.get(f"{served.url}/dashboard/")
    finally:
        stderr = served.stop()
    assert run.ok, f"claude -p failed: {run.stderr or run.stdout}\ngateway: {stderr}"
    assert run.result["subagent_stats"]["by_type"] == {"python-pro": 1}
    assert spawn.spawned == 1 and spawn.subagent_requests >= 1

    # what reached the upstream: the subagent routed to haiku, the main agent untouched
    sub = [r for r in upstream.requests if is_subagent_request(r.body)]
    main = [r for r in upstream.requests if not is_subagent_request(r.body)]
    assert {r.model for r in sub} == {"claude-haiku-5-5"}
    assert {r.model for r in main} == {"claude-opus-5-5"}
    assert all(r.query == {"beta": "true"} and r.stream for r in upstream.requests)

    # what was recorded (flushed when the gateway stopped)
    with SQLiteStore(served.data_dir / "ctxrouter.db") as store:
        events = store.events()
    assert len(events) == len(upstream.requests)
    session = run.result["session_id"]
    assert {e.session_id for e in events} == {session}
    routed = [e for e in events if e.agent == "python-pro"]
    assert len(routed) == len(sub)
    for event in routed:
        assert event.model == "claude-haiku-5-5" and event.tier == "haiku"
        assert event.requested_model == "claude-opus-5-5"
        assert event.route_reason and "claude-opus-5-5 -> claude-haiku-5-5" in event.route_reason
        assert event.stream and event.outcome.value == "success"
        assert event.input_tokens + event.cache_creation_5m_tokens > 0
        assert event.output_tokens > 0
        assert event.cost_usd is not None and event.cost_usd > 0
    assert {e.agent for e in events if e not in routed} == {"main"}

    # the same server answers Prometheus and the dashboard
    assert metrics.status_code == 200 and "ctxrouter_" in metrics.text
    assert dashboard.status_code == 200 and "<html" in dashboard.text.lower()
