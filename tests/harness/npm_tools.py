"""The npm tools the integration tests and benchmarks drive, pinned: where they are and
whether they are the pinned version. ``make tools`` installs them under ``.tools/`` with npm."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

TOOLS_BIN = Path(".tools") / "node_modules" / ".bin"


@dataclass(frozen=True, slots=True)
class NpmTool:
    command: str  # the binary's name
    package: str  # what npm installs
    version: str  # the pinned version
    env_var: str  # an explicit path to the binary
    version_word: int  # where ``--version`` prints the version: "2.1.328 (Claude Code)" is 0

    def version_of(self, binary: Path) -> str | None:
        """The version ``binary --version`` prints, or ``None`` when it does not run."""
        try:
            done = subprocess.run(
                [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        words = done.stdout.split()
        return words[self.version_word] if done.returncode == 0 and words else None

    def find(self, root: Path | None = None) -> Path | None:
        """``$<env_var>``, else ``<root>/.tools/...`` (``root`` defaults to the working
        directory), else the command on ``PATH`` when it is the pinned version; ``None``."""
        explicit = os.environ.get(self.env_var)
        if explicit:
            return Path(explicit)
        local = (root or Path.cwd()) / TOOLS_BIN / self.command
        if local.exists():
            return local
        found = shutil.which(self.command)
        if found and self.version_of(Path(found)) == self.version:
            return Path(found)
        return None


CLAUDE_CODE = NpmTool("claude", "@anthropic-ai/claude-code", "2.1.328", "CTXROUTER_CLAUDE_BIN", 0)
CCUSAGE = NpmTool("ccusage", "ccusage", "20.0.24", "CTXROUTER_CCUSAGE_BIN", -1)

__all__ = ["CCUSAGE", "CLAUDE_CODE", "TOOLS_BIN", "NpmTool"]
