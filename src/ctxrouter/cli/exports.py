"""``ctxrouter export ...``: write the fleet's policy where other tools read it."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
