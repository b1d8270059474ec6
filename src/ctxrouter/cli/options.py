"""Options that many commands share, spelled once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SinceOpt = Annotated[
    str | None,
    typer.Option("--since", help="From a date (2026-01-31), a UTC time, or a span back: 24h, 7d."),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="Until (not including) a date, a UTC time or a span back."),
]
AgentsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--agents",
        help="An agent folder (repeatable); its agents replace others of the same name "
        "(after the built-ins, ~/.claude/agents, ./.claude/agents and agent_dirs).",
    ),
]
