"""``ctxrouter import ...``: bring usage recorded elsewhere into the event store."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
