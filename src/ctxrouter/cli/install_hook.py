"""``ctxrouter install-hook``: add the PreToolUse hook to Claude Code's settings."""

from __future__ import annotations

import typer

from ctxrouter.cli.output import guarded


@guarded
def install_hook(ctx: typer.Context) -> None:
    """Add ``ctxrouter hook pre-tool-use`` to .claude/settings.json (matcher Agent)."""
    raise NotImplementedError("install-hook: being written (issue 7)")
