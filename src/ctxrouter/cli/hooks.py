"""``ctxrouter hook ...`` and ``ctxrouter install-hook``: Claude Code hooks."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
