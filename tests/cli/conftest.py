"""What the CLI's tests share: the real Typer app, an isolated data dir, a store of each
backend that the settings point at (``cli_store``), and Claude Code transcripts to import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from ctxrouter.cli.app import app as ctxrouter_app
from tests.stores import StoreBackend

SESSION = "5b4904d3-1986-4cbd-a617-03445c087df6"


def line(mid: str, rid: str, out: int, *, model: str = "claude-opus-5-5", **extra: object) -> str:
    usage = {"input_tokens": 3, "output_tokens": out, "cache_creation_input_tokens": 1200,
             "cache_read_input_tokens": 9000, "cache_creation": {"ephemeral_5m_input_tokens":
             1200, "ephemeral_1h_input_tokens": 0}}  # fmt: skip
    data = {"type": "assistant", "isSidechain": False, "requestId": rid, "sessionId": SESSION,
            "timestamp": "2026-11-26T09:24:29.692Z", "version": "2.1.328",
            "message": {"id": mid, "model": model, "usage": usage,
                        "content": [{"type": "text", "text": f"answer {mid}"}]}}  # fmt: skip
    data.update(extra)
    return json.dumps(data, separators=(",", ":"))


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    """A Claude config folder: a main transcript and a python-pro subagent's."""
    config = tmp_path / "claude"
    main = config / "projects" / "-src-app" / f"{SESSION}.jsonl"
    main.parent.mkdir(parents=True)
    main.write_text(
        "\n".join([line("msg_1", "req_1", 40), line("msg_1", "req_1", 40), '{"type":"user"}'])
        + "\n"
    )
    sub = config / "projects" / "-src-app" / SESSION / "subagents" / "agent-a1.jsonl"
    sub.parent.mkdir(parents=True)
    side = {"isSidechain": True, "attributionAgent": "python-pro", "agentId": "a1"}
    sub.write_text(line("msg_2", "req_2", 6, model="claude-opus-5-5", **side) + "\n")
    return config


@pytest.fixture
def app() -> typer.Typer:
    """The ``ctxrouter`` command line, as installed."""
    return ctxrouter_app


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The settings' data dir, from the environment (nothing in it yet)."""
    monkeypatch.setenv("CTXROUTER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def db(data_dir: Path) -> Path:
    """The default store: the SQLite file <data_dir>/ctxrouter.db (not created yet)."""
    return data_dir / "ctxrouter.db"


@pytest.fixture
def cli_store(
    store_backend: StoreBackend, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> StoreBackend:
    """The configured store, once a SQLite file (``database``) and once a fresh PostgreSQL
    schema (``store_url`` and ``store_schema``), as a user's settings would name them."""
    for name, value in store_backend.env.items():
        monkeypatch.setenv(name, value)
    return store_backend
