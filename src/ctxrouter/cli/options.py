"""Options that many commands share, spelled once, and what they are read into."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ctxrouter.errors import InputError
from ctxrouter.timewindow import parse_since

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
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="<path|url>",
        help="The event store: a SQLite file or a postgresql:// URL; default: the configured one.",
        show_default=False,
    ),
]


def parse_window(since: str | None, until: str | None) -> tuple[float | None, float | None]:
    """``--since`` and ``--until`` as epoch seconds (``None`` when not given); the end must
    come after the start."""
    now = time.time()
    start = parse_since(since, now=now) if since is not None else None
    end = parse_since(until, now=now, flag="--until") if until is not None else None
    if start is not None and end is not None and end <= start:
        raise InputError(f"--until ({until}) must be later than --since ({since})")
    return start, end
