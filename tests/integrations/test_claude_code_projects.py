"""Where Claude Code keeps transcripts, and what a transcript's path and meta file say."""

from __future__ import annotations

import json
from pathlib import Path, PurePath

import pytest

from ctxrouter.errors import InputError
from ctxrouter.integrations.claude_code.projects import (
    agent_type,
    default_root,
    projects_folder,
    transcript_file,
)


def test_where_transcripts_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "cfg"
    (config / "projects").mkdir(parents=True)
    assert projects_folder(config) == (config / "projects").resolve()
    assert projects_folder(config / "projects") == (config / "projects").resolve()
    with pytest.raises(InputError, match="no such folder"):
        projects_folder(tmp_path / "missing")
    (tmp_path / "file.jsonl").write_text("")
    with pytest.raises(InputError, match="not a folder"):
        projects_folder(tmp_path / "file.jsonl")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    assert default_root() == config / "projects"
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    assert default_root() == Path.home() / ".claude" / "projects"


def test_where_a_transcript_sits() -> None:
    root = PurePath("/h/.claude/projects")
    main = transcript_file(root / "-src-app" / "0afd.jsonl", root)
    assert (main.main, main.session_id, main.project, main.agent_id) == (
        True,
        "0afd",
        "-src-app",
        None,
    )
    sub = transcript_file(root / "-src-app" / "0afd" / "subagents" / "agent-a3fe.jsonl", root)
    assert (sub.main, sub.session_id, sub.agent_id, sub.relative) == (
        False,
        "0afd",
        "a3fe",
        "-src-app/0afd/subagents/agent-a3fe.jsonl",
    )
    assert sub.meta_path == root / "-src-app" / "0afd" / "subagents" / "agent-a3fe.meta.json"
    nested = transcript_file(root / "p" / "s9" / "chat.jsonl", root)
    assert (nested.main, nested.session_id) == (False, "s9")


def test_agent_type_of_a_meta_file() -> None:
    meta = {"agentType": "doc-writer", "spawnDepth": 1, "model": "claude-opus-5-5"}
    assert agent_type(json.dumps(meta).encode()) == "doc-writer"
    assert agent_type(b"{}") is None
    with pytest.raises(ValueError):
        agent_type(b"{broken")
