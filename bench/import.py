"""Importing Claude Code history: `ctxrouter import claude-code` against ccusage on one corpus.

A generator writes a corpus of transcript lines shaped like Claude Code 2.1.328's (see
``ctxrouter.integrations.claude_code.transcripts``): several projects, sessions over several
days, main transcripts and subagents' (``<session>/subagents/agent-<id>.jsonl`` with their
meta files), one line per content block each repeating the response's usage, tool results,
attachments, Claude Code's own ``<synthetic>`` lines, resumed sessions that copy an earlier
session's lines, a few broken lines, and models ctxrouter prices, ccusage prices, or neither.

Then it measures, each in its own process as a user runs them:

1. ``ctxrouter import claude-code CORPUS --json`` into a fresh SQLite store (the default);
2. the same again: an incremental import that finds nothing new;
3. ``ccusage daily --json --offline`` on the same corpus (when ccusage is installed: ``make
   tools``), and whether its token totals equal the store's, category by category.

Each tool runs ``--runs`` times (default 3; the import each time into a fresh store); the
medians are compared.

Prints one JSON object. ``--lines`` sets the corpus size (default 1,000,000; ``--lines
50000`` for a quick look); ``--corpus DIR`` keeps the corpus (reused when it exists).

    .venv/bin/python bench/import.py
    .venv/bin/python bench/import.py --lines 50000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# ccusage is driven by the test suite's harness (tests/harness/, not shipped with ctxrouter):
# importable from the repository root, which `python bench/import.py` does not put on sys.path
sys.path.insert(0, str(ROOT))
from tests.harness.ccusage import (  # noqa: E402
    CCUSAGE_VERSION,
    ccusage_daily,
    find_ccusage,
    token_totals,
)

CTXROUTER = ROOT / ".venv" / "bin" / "ctxrouter"
VERSION = "2.1.328"
START = datetime(2026, 10, 27, 8, 0, tzinfo=UTC)

# (model, weight): ctxrouter prices the 5.5 and 4.x ones it ships; ccusage prices the 4.x ones
# only; claude-opus-4-1 is priced by ccusage and unknown to ctxrouter (reported unpriced).
MAIN_MODELS = (
    ("claude-opus-5-5", 45),
    ("claude-sonnet-5-5", 30),
    ("claude-sonnet-4-6", 12),
    ("claude-opus-4-1", 5),
    ("claude-haiku-4-5", 8),
)
SUBAGENT_MODELS = (("claude-haiku-5-5", 50), ("claude-sonnet-5-5", 35), ("claude-haiku-4-5", 15))
AGENTS = (
    "python-pro",
    "code-reviewer",
    "test-automator",
    "security-auditor",
    "technical-writer",
    "debugger",
    "sql-pro",
    "typescript-pro",
    "general-purpose",
    "Explore",
)
SENTENCE = (
    "refactor the parser so that it streams lines instead of reading the whole file, then add"
    " tests for empty input, broken lines and a file that grows while it is read; keep the"
    " public API and document the new flag in the README with an example of its output"
)
WORDS = tuple(SENTENCE.split())
BETAS = ["claude-code-20250219", "interleaved-thinking-2025-05-14", "context-management-2025-06-27",
         "per-turn-control-2026-07-01", "effort-2025-11-24"]  # fmt: skip
TOOLS = ("Read", "Edit", "Bash", "Grep", "Write")


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([m for m, _ in weighted], [w for _, w in weighted])[0]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Session:
    """One session being written: its main transcript's lines and its subagents'."""

    project: str
    session_id: str
    cwd: str
    moment: datetime
    lines: list[str] = field(default_factory=list)
    subagents: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # id -> type, lines
    parent: str | None = None


class Corpus:
    """Writes sessions until ``target`` lines are written."""

    def __init__(self, root: Path, target: int, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.target = target
        self.written = 0
        self.ids = 0
        self.projects = [f"-home-dev-src-app{i:02d}" for i in range(12)]
        self.finished: list[Session] = []
        self.broken = 0

    def _id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}{self.ids:016x}{self.rng.getrandbits(40):010x}"

    def _uuid(self) -> str:
        bits = f"{self.rng.getrandbits(128):032x}"
        return f"{bits[:8]}-{bits[8:12]}-{bits[12:16]}-{bits[16:20]}-{bits[20:]}"

    def _base(self, s: Session, kind: str, *, side: bool, agent_id: str | None) -> dict[str, Any]:
        s.moment += timedelta(milliseconds=self.rng.randint(40, 9000))
        line: dict[str, Any] = {"parentUuid": s.parent, "isSidechain": side}
        if agent_id is not None:
            line["agentId"] = agent_id
        line.update(
            {
                "type": kind,
                "uuid": self._uuid(),
                "timestamp": _stamp(s.moment),
                "userType": "external",
                "entrypoint": "cli",
                "cwd": s.cwd,
                "sessionId": s.session_id,
                "version": VERSION,
                "gitBranch": "main",
            }
        )
        s.parent = line["uuid"]
        return line

    def _user(self, s: Session, out: list[str], text: str, **kw: Any) -> None:
        line = self._base(s, "user", **kw)
        line["message"] = {"role": "user", "content": text}
        line["promptId"] = self._uuid()
        out.append(_dump(line))

    def _tool_result(self, s: Session, out: list[str], tool_id: str, **kw: Any) -> None:
        line = self._base(s, "user", **kw)
        body = _text(self.rng, 20, 400)
        line["message"] = {
            "role": "user",
            "content": [{"tool_use_id": tool_id, "type": "tool_result", "content": body}],
        }
        line["toolUseResult"] = {"stdout": body[:200], "stderr": "", "interrupted": False}
        out.append(_dump(line))

    def _attachment(self, s: Session, out: list[str], **kw: Any) -> None:
        line = self._base(s, "attachment", **kw)
        line["attachment"] = {"type": "todo_reminder", "content": _text(self.rng, 5, 300)}
        out.append(_dump(line))

    def _request(self, s: Session, out: list[str], model: str, **kw: Any) -> None:
        """What 2.1.328 writes before a response: the request (and blobs of new messages)."""
        rng = self.rng
        if rng.random() < 0.6:
            out.append(_dump({"type": "api-request-blob", "sessionId": s.session_id,
                "hash": f"{rng.getrandbits(256):064x}", "message": {"role": "user",
                "content": [{"type": "text", "text": _text(rng, 40, 500)}]}}))  # fmt: skip
        out.append(_dump({"type": "api-request", "sessionId": s.session_id, "id": self._uuid(),
            "timestamp": _stamp(s.moment), "version": VERSION, "querySource": "repl_main_thread",
            "shapeHash": f"{rng.getrandbits(256):064x}", "params": {"model": model,
            "betas": BETAS, "max_tokens": 64000, "thinking": {"type": "adaptive"}},
            "keep": 0, "tail": [f"{rng.getrandbits(256):064x}"],
            "requestDigest": f"{rng.getrandbits(256):064x}"}))  # fmt: skip

    def _response(
        self, s: Session, out: list[str], model: str, *, agent: str | None, **kw: Any
    ) -> str | None:
        """One API response: one line per content block, each with the full usage."""
        rng = self.rng
        self._request(s, out, model, **kw)
        mid, rid = self._id("msg_01"), self._id("req_01")
        created = rng.choice((0, 0, rng.randint(200, 30000)))
        one_hour = created if rng.random() < 0.2 else 0
        usage = {
            "input_tokens": rng.randint(1, 40),
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": rng.randint(5000, 180000),
            "output_tokens": rng.randint(5, 3000),
            "output_tokens_details": {"thinking_tokens": 0},
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
            "service_tier": "standard",
            "cache_creation": {
                "ephemeral_1h_input_tokens": one_hour,
                "ephemeral_5m_input_tokens": created - one_hour,
            },
            "inference_geo": "",
            "iterations": [],
            "speed": "standard",
            "fallback_credit": None,
        }
        blocks: list[dict[str, Any]] = []
        if rng.random() < 0.5:
            blocks.append({"type": "thinking", "thinking": _text(rng, 10, 60), "signature": "x"})
        if rng.random() < 0.8:
            blocks.append({"type": "text", "text": _text(rng, 5, 80)})
        tool_id = None
        if rng.random() < 0.6 or not blocks:
            tool_id = self._id("toolu_01")
            blocks.append(
                {
                    "type": "tool_use",
                    "id": tool_id,
                    "name": rng.choice(TOOLS),
                    "input": {"file_path": f"{s.cwd}/src/module{rng.randint(1, 80)}.py"},
                }
            )
        for index, block in enumerate(blocks):
            line = self._base(s, "assistant", **kw)
            line["message"] = {
                "id": mid,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [block],
                "stop_reason": "tool_use" if tool_id else "end_turn",
                "stop_sequence": None,
                "usage": usage,
                "stop_details": None,
            }
            line["apiBlockIndex"] = index
            line["requestId"] = rid
            if agent is not None:
                line["attributionAgent"] = agent
            out.append(_dump(line))
        return tool_id

    def _synthetic(self, s: Session, out: list[str], **kw: Any) -> None:
        line = self._base(s, "assistant", **kw)
        line["message"] = {
            "id": self._uuid(),
            "model": "<synthetic>",
            "role": "assistant",
            "type": "message",
            "content": [{"type": "text", "text": "API Error: 529 overloaded"}],
            "stop_reason": "stop_sequence",
            "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0},
        }  # fmt: skip
        line["isApiErrorMessage"] = True
        out.append(_dump(line))

    def _subagent(self, s: Session, model: str) -> None:
        agent_id = f"a{self.rng.getrandbits(64):016x}"[:18]
        kind = self.rng.choice(AGENTS)
        out: list[str] = []
        saved = s.parent
        s.parent = None
        kw: dict[str, Any] = {"side": True, "agent_id": agent_id}
        self._user(s, out, _text(self.rng, 10, 50), **kw)
        for _ in range(self.rng.randint(2, 9)):
            tool = self._response(s, out, model, agent=kind, **kw)
            if tool is not None:
                self._tool_result(s, out, tool, **kw)
        self._response(s, out, model, agent=kind, **kw)
        s.subagents[agent_id] = (kind, out)
        s.parent = saved

    def session(self) -> Session:
        rng = self.rng
        project = rng.choice(self.projects)
        day = rng.randrange(30)
        moment = START + timedelta(days=day, minutes=rng.randint(0, 600))
        s = Session(project, self._uuid(), f"/home/dev/src/{project[-5:]}", moment)
        out = s.lines
        kw: dict[str, Any] = {"side": False, "agent_id": None}
        if self.finished and rng.random() < 0.06:  # a resumed session starts with a copy
            earlier = rng.choice(self.finished)
            copied = earlier.lines[: rng.randint(1, max(1, len(earlier.lines)))]
            out.extend(line.replace(earlier.session_id, s.session_id) for line in copied)
            s.moment = max(s.moment, earlier.moment)
        model = _pick(rng, MAIN_MODELS)
        for _ in range(rng.randint(2, 12)):
            queued = {"type": "queue-operation", "operation": "enqueue",
                      "timestamp": _stamp(s.moment), "sessionId": s.session_id}  # fmt: skip
            out.append(_dump(queued))
            self._user(s, out, _text(rng, 5, 60), **kw)
            for _ in range(rng.randint(0, 3)):
                self._attachment(s, out, **kw)
            for _ in range(rng.randint(1, 6)):
                if rng.random() < 0.01:
                    self._synthetic(s, out, **kw)
                tool = self._response(s, out, model, agent=None, **kw)
                if tool is None:
                    break
                if rng.random() < 0.12:
                    self._subagent(s, _pick(rng, SUBAGENT_MODELS))
                self._tool_result(s, out, tool, **kw)
                if rng.random() < 0.3:
                    self._attachment(s, out, **kw)
        out.append(_dump({"type": "last-prompt", "lastPrompt": _text(rng, 3, 20),
                          "sessionId": s.session_id}))  # fmt: skip
        return s

    def write(self, s: Session) -> None:
        folder = self.root / "projects" / s.project
        folder.mkdir(parents=True, exist_ok=True)
        self._write_lines(folder / f"{s.session_id}.jsonl", s.lines)
        for agent_id, (kind, lines) in s.subagents.items():
            sub = folder / s.session_id / "subagents"
            sub.mkdir(parents=True, exist_ok=True)
            self._write_lines(sub / f"agent-{agent_id}.jsonl", lines)
            meta = {"agentType": kind, "spawnDepth": 1, "model": "inherit", "finished": True}
            (sub / f"agent-{agent_id}.meta.json").write_text(json.dumps(meta))
        self.finished.append(s)

    def _write_lines(self, path: Path, lines: list[str]) -> None:
        chosen = []
        for line in lines:
            if self.rng.random() < 1 / 20000:  # a write cut short
                line = line[: self.rng.randint(10, len(line) - 2)]
                self.broken += 1
            chosen.append(line)
        path.write_text("".join(line + "\n" for line in chosen), encoding="utf-8")
        self.written += len(chosen)

    def generate(self) -> None:
        while self.written < self.target:
            self.write(self.session())


def _run(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed ({done.returncode}):\n{done.stderr}")
    return seconds, done.stdout


def _store_totals(db: Path) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_5m_tokens"
            " + cache_creation_1h_tokens), SUM(cache_read_tokens) FROM events"
            " WHERE provider = 'claude-code'"
        ).fetchone()
    finally:
        conn.close()
    names = ("events", "inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="corpus size in lines")
    parser.add_argument("--corpus", type=Path, help="keep the corpus here (reused if present)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each tool")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="ctxrouter-bench-import-"))
    corpus = args.corpus or work / "claude"
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        }
    }
    try:
        started = time.perf_counter()
        if not (corpus / "projects").is_dir():
            generator = Corpus(corpus, args.lines, args.seed)
            generator.generate()
            result["corpus"] = {"generated_s": round(time.perf_counter() - started, 2),
                                "broken_lines": generator.broken}  # fmt: skip
        files = list((corpus / "projects").rglob("*.jsonl"))
        data = [p.read_bytes() for p in files]
        lines = sum(d.count(b"\n") for d in data)
        result.setdefault("corpus", {}).update(
            {
                "path": str(corpus),
                "files": len(files),
                "lines": lines,
                "usage_lines": sum(d.count(b'"usage":{') for d in data),
                "bytes": sum(map(len, data)),
            }
        )
        del data
        home = work / "home"
        home.mkdir()
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "TZ": "UTC",
               "CLAUDE_CONFIG_DIR": str(corpus)}  # fmt: skip
        command = [str(CTXROUTER), "import", "claude-code", str(corpus), "--json"]
        cold: list[float] = []
        for run in range(args.runs):  # each into a fresh store (the default SQLite file)
            env["CTXROUTER_DATA_DIR"] = str(work / f"data{run}")
            seconds, out = _run(command, env)
            cold.append(seconds)
            first = json.loads(out)
        again_s, again_out = _run(command, env)
        again = json.loads(again_out)
        store = _store_totals(Path(env["CTXROUTER_DATA_DIR"]) / "ctxrouter.db")
        result["import"] = {
            "seconds": [round(s, 2) for s in cold],
            "median_s": _median(cold),
            "lines_per_s": round(first["lines"]["read"] / statistics.median(cold)),
            "lines_read": first["lines"]["read"],
            "responses": first["responses"],
            "skipped": first["skipped"],
            "problem_count": first["problem_count"],
            "models": first["models"],
            "cost_usd": round(first["cost_usd"], 2),
            "seconds_inside": round(first["seconds"], 2),  # without the process's start
        }
        result["reimport"] = {
            "seconds": round(again_s, 2),
            "lines_read": again["lines"]["read"],
            "added": again["responses"]["added"],
            "files_unchanged": again["files"]["unchanged"],
        }
        result["store"] = store
        ccusage = find_ccusage(ROOT)
        if ccusage is not None:
            runs: list[float] = []
            for _ in range(args.runs):
                started = time.perf_counter()
                daily = ccusage_daily(ccusage, config_dir=corpus, home=home)
                runs.append(time.perf_counter() - started)
            theirs = token_totals(daily)
            result["ccusage"] = {
                "version": CCUSAGE_VERSION,
                "seconds": [round(s, 2) for s in runs],
                "median_s": _median(runs),
                "lines_per_s": round(lines / statistics.median(runs)),
                "totals": theirs,
                "unpriced_models": daily["totals"].get("unpricedModels", []),
                "total_cost_usd": round(daily["totals"].get("totalCost", 0.0), 2),
                "identical_token_totals": theirs == {k: store[k] for k in theirs},
            }
            result["import_vs_ccusage"] = round(
                statistics.median(cold) / statistics.median(runs), 2
            )
            result["reimport_vs_ccusage"] = round(again_s / statistics.median(runs), 3)
        else:
            result["ccusage"] = None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
