"""Shared fixtures: every test runs with its own HOME, config and data dir."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxrouter.config import Settings
from tests.harness.npm_tools import CCUSAGE, CLAUDE_CODE, NpmTool

REQUIRE_SERVICES = os.environ.get("CTXROUTER_REQUIRE_SERVICES") == "1"

pytest_plugins = ["tests.stores"]  # every store backend, fresh per test (tests/stores.py)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads the developer's real config, agents or data."""
    home = tmp_path / "home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith("CTXROUTER_") and key != "CTXROUTER_REQUIRE_SERVICES":
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    yield home


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(data_dir=tmp_path / "data")


ROOT = Path(__file__).resolve().parents[1]


def installed(tool: NpmTool) -> Path:
    """The pinned npm tool (``make test`` installs it under .tools/ when npm is present).

    Skips only where npm is absent, and never under CTXROUTER_REQUIRE_SERVICES=1 (CI)."""
    found = tool.find(ROOT)
    if found is not None:
        return found
    what = f"{tool.package}@{tool.version}"
    if REQUIRE_SERVICES:
        pytest.fail(
            f"{what} is not installed in .tools/ (`make tools`), "
            "and CTXROUTER_REQUIRE_SERVICES=1 requires it"
        )
    if shutil.which("npm") is None:
        pytest.skip(f"npm is absent, so {what} cannot be installed here")
    pytest.fail(f"npm is present but {what} is not installed: run `make tools`")


@pytest.fixture(scope="session")
def claude_cli() -> Path:
    """The pinned Claude Code CLI."""
    return installed(CLAUDE_CODE)


@pytest.fixture(scope="session")
def ccusage_cli() -> Path:
    """The pinned ccusage, the reference for the token totals of ``ctxrouter import``."""
    return installed(CCUSAGE)
