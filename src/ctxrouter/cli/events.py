"""``ctxrouter events``: the recorded attempts, newest first."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ctxrouter.cli.options import DbOpt, SinceOpt
from ctxrouter.cli.output import guarded, print_json, print_nothing, print_store, stdout
from ctxrouter.cli.state import state
from ctxrouter.errors import InputError, did_you_mean
from ctxrouter.telemetry.event import Event, Outcome
from ctxrouter.telemetry.store import EventQuery, Store
from ctxrouter.timewindow import parse_since

_OUTCOMES = [o.value for o in Outcome]
_STYLES = {Outcome.SUCCESS: "green", Outcome.REJECTED: "yellow", Outcome.ERROR: "red"}


def parse_outcome(value: str) -> Outcome:
    try:
        return Outcome(value.strip().lower())
    except ValueError:
        guess = did_you_mean(value, _OUTCOMES)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        raise InputError(
            f"--outcome: unknown outcome {value!r}{hint}; expected one of {', '.join(_OUTCOMES)}"
        ) from None


def _usd(cost: float | None) -> str:
    if cost is None:
        return "unpriced"
    return f"${cost:,.4f}" if cost == 0 or abs(cost) >= 0.01 else f"${cost:.6f}"


def _tokens(n: int) -> str:
    """Short: 9,999 / 12.3k / 1.23M (``--json`` has the exact counts)."""
    if n < 10_000:
        return f"{n:,}"
    return f"{n / 1000:.1f}k" if n < 999_950 else f"{n / 1_000_000:.2f}M"


def _outcome(event: Event) -> Text:
    label = event.outcome.value + (f" ({event.error_type})" if event.error_type else "")
    return Text(label, style=_STYLES.get(event.outcome, ""))


def _row(event: Event) -> list[str | Text]:
    written = event.cache_creation_5m_tokens + event.cache_creation_1h_tokens
    return [
        datetime.fromtimestamp(event.ts, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        Text(event.run_id[-8:]),  # ids start with a timestamp: the tail tells runs apart
        Text(event.agent or "—"),
        Text(event.tier or "—"),
        Text(event.model),
        str(event.attempt),
        _outcome(event),
        _tokens(event.input_tokens),
        _tokens(event.output_tokens),
        f"{_tokens(event.cache_read_tokens)}/{_tokens(written)}",
        Text(_usd(event.cost_usd), style="dim" if event.cost_usd is None else ""),
        "—" if event.latency_ms is None else f"{event.latency_ms:,.0f}",
    ]


def print_events(events: list[Event], *, caption: str | None) -> None:
    table = Table(
        title="Events, newest first (times in UTC)",
        title_justify="left",
        caption=Text(caption, style="dim") if caption else None,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0),  # the box's column separator is the one space between columns
    )
    table.add_column("time", no_wrap=True)
    table.add_column("run", no_wrap=True)
    table.add_column("agent", overflow="fold")
    table.add_column("tier", no_wrap=True)
    table.add_column("model", overflow="fold")
    table.add_column("try", justify="right", no_wrap=True)
    table.add_column("outcome", overflow="fold")
    for name in ("in", "out", "cache r/w", "cost", "ms"):
        table.add_column(name, justify="right", no_wrap=True)
    for event in events:
        table.add_row(*_row(event))
    stdout().print(table)


@guarded
def events(
    ctx: typer.Context,
    run: Annotated[str | None, typer.Option("--run", help="Only this run's attempts.")] = None,
    agent: Annotated[str | None, typer.Option("--agent", "-a", help="Only this agent.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model id.")] = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="success, rejected or error.")
    ] = None,
    since: SinceOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, help="At most this many (0: all).")
    ] = 50,
    db: DbOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON list of events.")] = False,
) -> None:
    """List the recorded attempts, newest first: model, outcome, tokens, cost and latency."""
    query = EventQuery(
        run_id=run,
        agent=agent,
        model=model,
        outcome=parse_outcome(outcome).value if outcome is not None else None,
        since=parse_since(since, now=time.time()) if since is not None else None,
        limit=limit or None,
        newest_first=True,
    )
    target = state(ctx).store_target(db)

    def read(store: Store) -> tuple[list[Event], int | None, int | None]:
        found = store.events(query)
        total = store.count_events(EventQuery()) if not found else None
        matching = (
            store.count_events(replace(query, limit=None)) if query.limit == len(found) else None
        )
        return found, total, matching

    nothing: tuple[list[Event], int | None, int | None] = ([], 0, None)
    found, total, matching = target.read(read, empty=nothing)
    if json_:
        print_json([e.to_dict() for e in found])
    elif not found:
        print_nothing("no events recorded yet" if total == 0 else "no events match", target.label)
    else:
        caption = f"{len(found)} event(s)"
        if matching is not None and matching > len(found):
            caption = f"newest {len(found)} of {matching:,} matching events; --limit N for more"
            caption += " (0: all)"
        print_events(found, caption=caption)
        print_store(target.label)
