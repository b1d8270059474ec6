"""Claude Code waits for its PreToolUse hook: whole-process latency of
``ctxrouter hook pre-tool-use`` (the console script, as ``ctxrouter install-hook`` installs it).

Four cases, each a fresh process per call as Claude Code runs it: another tool (passed
through), an Agent call answered by the warm helper process, an Agent call routed in-process
(``CTXROUTER_HOOK_DAEMON=0``, what the first call of a session costs), and the very first call
(which also starts the helper). Tasks come from the labelled corpora, agents from the catalog.
Prints JSON. Goal: p99 < 100 ms with the helper running.

    .venv/bin/python bench/hook.py [--calls N] [--cold-calls N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ctxrouter.analytics.percentiles import nearest_rank
from ctxrouter.integrations.claude_code.hook import ask_helper, socket_path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "ctxrouter"
CORPUS = ROOT / "tests" / "data" / "assign_corpus.jsonl"
AGENTS = ["python-pro", "code-reviewer", "security-auditor", "debugger", "docs-architect"]


def events(count: int, rng: random.Random) -> list[bytes]:
    tasks = [json.loads(line)["task"] for line in CORPUS.read_text().splitlines() if line.strip()]
    out = []
    for i in range(count):
        tool_input = {
            "description": "delegate",
            "prompt": rng.choice(tasks),
            "subagent_type": rng.choice(AGENTS),
            "run_in_background": False,
        }
        event = {
            "session_id": "bench",
            "transcript_path": "/tmp/bench.jsonl",
            "cwd": str(ROOT),
            "hook_event_name": "PreToolUse",
            "tool_name": "Agent",
            "tool_input": tool_input,
            "tool_use_id": f"toolu_{i}",
        }
        out.append(json.dumps(event).encode())
    return out


def call(stdin: bytes, env: dict[str, str]) -> tuple[float, bytes]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(SCRIPT), "hook", "pre-tool-use"], input=stdin, env=env, capture_output=True, check=True
    )
    return (time.perf_counter() - started) * 1000, done.stdout


def summary(samples: list[float]) -> dict[str, float | int]:
    p50, p95, p99, top = nearest_rank(samples, (0.5, 0.95, 0.99, 1))
    return {
        "calls": len(samples),
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(top, 1),
    }


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500, help="calls per fast case")
    parser.add_argument("--cold-calls", type=int, default=30, help="in-process calls")
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "XDG_RUNTIME_DIR": f"{scratch}/run",
            "CTXROUTER_DATA_DIR": f"{scratch}/data",
        }
        agent_calls = events(args.calls, rng)
        first_ms, first_out = call(agent_calls[0], env)  # starts the helper
        assert first_out, "the first call printed nothing"
        path = socket_path(env)
        while ask_helper(path, {"cmd": "ping"}) is None:  # wait until the helper is up
            time.sleep(0.05)
        call(agent_calls[0], env)  # the helper builds its router for this cwd
        other = json.dumps({"tool_name": "Bash", "tool_input": {"command": "ls"}}).encode()
        passthrough = [call(other, env)[0] for _ in range(args.calls)]
        warm, changed = [], 0
        for stdin in agent_calls:
            ms, out = call(stdin, env)
            warm.append(ms)
            changed += bool(out)
        cold_env = {**env, "CTXROUTER_HOOK_DAEMON": "0"}
        cold = [call(stdin, cold_env)[0] for stdin in agent_calls[: args.cold_calls]]
        ask_helper(path, {"cmd": "stop"})
    warm_summary = summary(warm)
    return {
        "benchmark": "hook",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "other_tool": summary(passthrough),
        "agent_call_warm_helper": {**warm_summary, "answered": changed},
        "agent_call_in_process": summary(cold),
        "first_call_ms": round(first_ms, 1),
        "goal_p99_under_100ms": warm_summary["p99_ms"] < 100,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
