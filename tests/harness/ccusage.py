"""Run ccusage (npm ``ccusage``, pinned at :data:`CCUSAGE_VERSION`) on a folder of Claude Code
transcripts: the reference that ``ctxrouter import claude-code`` must agree with, token for token.

::

    binary = find_ccusage()
    daily = ccusage_daily(binary, config_dir=home / ".claude", home=tmp_path / "ccusage-home")
    daily["totals"]["outputTokens"]

ccusage reads ``$CLAUDE_CONFIG_DIR/projects``, and ``daily`` reports every coding agent it finds
under ``HOME``: an isolated ``HOME`` keeps it to the transcripts given. ``--offline`` uses its
bundled prices (no network); days are UTC (``TZ=UTC``).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.harness.npm_tools import CCUSAGE

CCUSAGE_VERSION = CCUSAGE.version


def find_ccusage(root: Path | None = None) -> Path | None:
    """The pinned ccusage (see :meth:`NpmTool.find`), or ``None``."""
    return CCUSAGE.find(root)


def ccusage_version(binary: Path) -> str | None:
    """``20.0.24`` from ``ccusage --version``, or ``None`` when it does not run."""
    return CCUSAGE.version_of(binary)


def ccusage_daily(
    binary: Path, *, config_dir: Path, home: Path, timeout: float = 600.0
) -> dict[str, Any]:
    """``ccusage daily --json --offline`` over ``config_dir/projects``, parsed."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "TZ": "UTC",
        "NO_COLOR": "1",
    }
    done = subprocess.run(
        [str(binary), "daily", "--json", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ccusage daily failed ({done.returncode}): {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


TOKEN_TOTALS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")


def token_totals(daily: dict[str, Any]) -> dict[str, int]:
    """The four token totals of a ``daily`` report (all zero when it found nothing)."""
    totals = daily.get("totals") or {}
    return {name: int(totals.get(name, 0)) for name in TOKEN_TOTALS}


__all__ = [
    "CCUSAGE_VERSION",
    "TOKEN_TOTALS",
    "ccusage_daily",
    "ccusage_version",
    "find_ccusage",
    "token_totals",
]
