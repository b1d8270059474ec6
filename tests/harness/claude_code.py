"""Drive the real Claude Code CLI against a fake upstream, for end-to-end tests.

Claude Code (npm ``@anthropic-ai/claude-code``, pinned at :data:`CLAUDE_CODE_VERSION`) runs
``claude -p`` with ``ANTHROPIC_BASE_URL`` pointing at a :class:`FakeAnthropic` (or at the
gateway in front of one), an isolated ``HOME`` and no network beyond loopback.
:class:`SpawnSubagent` is a responder for the fake that makes the main agent call the ``Agent``
tool once (in the foreground), so Claude Code spawns the named subagent::

    spawn = SpawnSubagent("doc-writer", "Write a paragraph about caching.")
    with FakeAnthropic(responder=spawn) as fake:
        run = run_claude("Document caching.", base_url=fake.base_url, home=home, cwd=project,
                         binary=find_claude())
        assert run.ok and spawn.subagent_requests == 1

Facts read off Claude Code 2.1.328: every request is ``POST /v1/messages?beta=true`` with
``stream: true`` and carries ``x-claude-code-session-id``; a subagent's requests also carry
``x-claude-code-agent-id``, their first system block contains ``cc_is_subagent=true`` and a
later one the agent file's body verbatim.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxrouter.testing.fake_anthropic import FakeAnthropic, Fault, RecordedRequest
from tests.harness.npm_tools import CLAUDE_CODE

CLAUDE_CODE_VERSION = CLAUDE_CODE.version
SUBAGENT_MARK = "cc_is_subagent=true"


def find_claude(root: Path | None = None) -> Path | None:
    """The pinned Claude Code CLI (see :meth:`NpmTool.find`), or ``None``."""
    return CLAUDE_CODE.find(root)


def claude_version(binary: Path) -> str | None:
    """``2.1.328`` from ``claude --version``, or ``None`` when it does not run."""
    return CLAUDE_CODE.version_of(binary)


@dataclass(frozen=True, slots=True)
class ClaudeRun:
    """One finished ``claude -p`` run."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        """The ``--output-format json`` result (``{}`` when stdout is not JSON)."""
        try:
            parsed = json.loads(self.stdout)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.result.get("is_error") is False


def claude_env(home: Path, base_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an isolated, offline run: own ``HOME``, no telemetry, no updates."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "TERM")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        {
            "HOME": str(home),
            "ANTHROPIC_BASE_URL": base_url,
            "ANTHROPIC_API_KEY": "sk-test",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
        }
    )
    env.update(extra or {})
    return env


def run_claude(
    prompt: str,
    *,
    base_url: str,
    home: Path,
    cwd: Path,
    binary: Path,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> ClaudeRun:
    """Run ``claude -p PROMPT --output-format json`` and wait for it."""
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(Path(binary).absolute()), "-p", prompt, "--output-format", "json", *args],
        cwd=cwd,
        env=claude_env(home, base_url, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return ClaudeRun(done.returncode, done.stdout, done.stderr)


def run_with_subagent(
    spawn: SpawnSubagent,
    prompt: str,
    *,
    home: Path,
    cwd: Path,
    binary: Path,
    env: Mapping[str, str] | None = None,
) -> tuple[ClaudeRun, list[RecordedRequest]]:
    """``claude -p PROMPT`` against a fresh :class:`FakeAnthropic` answering with ``spawn``:
    the run, and every request the fake received."""
    with FakeAnthropic(responder=spawn) as fake:
        run = run_claude(prompt, base_url=fake.base_url, home=home, cwd=cwd, binary=binary, env=env)
        return run, fake.requests


def models_by_role(requests: Sequence[RecordedRequest]) -> tuple[list[str], list[str]]:
    """The models of the subagents' requests, and of the main agent's, in order."""
    sub = [r.model or "" for r in requests if is_subagent_request(r.body)]
    main = [r.model or "" for r in requests if not is_subagent_request(r.body)]
    return sub, main


def is_subagent_request(body: Mapping[str, Any]) -> bool:
    """A subagent's request: its first system block carries ``cc_is_subagent=true``."""
    system = body.get("system")
    if isinstance(system, list) and system and isinstance(system[0], dict):
        return SUBAGENT_MARK in str(system[0].get("text", ""))
    return isinstance(system, str) and SUBAGENT_MARK in system


def has_tool_result(body: Mapping[str, Any]) -> bool:
    messages = body.get("messages")
    return isinstance(messages, list) and any(
        isinstance(m, dict)
        and isinstance(m.get("content"), list)
        and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in m["content"])
        for m in messages
    )


def offers_tool(body: Mapping[str, Any], name: str) -> bool:
    tools = body.get("tools")
    return isinstance(tools, list) and any(
        isinstance(t, dict) and t.get("name") == name for t in tools
    )


@dataclass
class SpawnSubagent:
    """A :class:`FakeAnthropic` responder: the main agent's first turn calls the ``Agent``
    tool for ``subagent_type`` with ``prompt``; the subagent answers ``subagent_reply``;
    everything else gets the fake's default answer. ``model``, when set, goes into the tool
    input as the main agent's own choice (``sonnet|opus|haiku``)."""

    subagent_type: str
    prompt: str
    subagent_reply: str = "Subagent report: done."
    model: str | None = None
    spawned: int = 0
    subagent_requests: int = 0
    subagent_bodies: list[Mapping[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, body: Mapping[str, Any]) -> Fault | None:
        with self._lock:
            if is_subagent_request(body):
                self.subagent_requests += 1
                self.subagent_bodies.append(body)
                return Fault.ok(self.subagent_reply)
            if self.spawned == 0 and offers_tool(body, "Agent") and not has_tool_result(body):
                self.spawned += 1
                tool_input: dict[str, Any] = {
                    "description": f"delegate to {self.subagent_type}",
                    "prompt": self.prompt,
                    "subagent_type": self.subagent_type,
                    "run_in_background": False,
                }
                if self.model is not None:
                    tool_input["model"] = self.model
                call = {"type": "tool_use", "name": "Agent", "input": tool_input}
                return Fault.ok(content=[call])
        return None


__all__ = [
    "CLAUDE_CODE_VERSION",
    "SUBAGENT_MARK",
    "ClaudeRun",
    "SpawnSubagent",
    "claude_env",
    "claude_version",
    "find_claude",
    "has_tool_result",
    "is_subagent_request",
    "models_by_role",
    "offers_tool",
    "run_claude",
    "run_with_subagent",
]
