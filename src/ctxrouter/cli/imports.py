"""``ctxrouter import ...``: bring usage recorded elsewhere into the event store."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from ctxrouter.cli.options import DbOpt
from ctxrouter.cli.output import guarded, print_json, progress_bar, stderr, stdout
from ctxrouter.cli.state import AppState, state
from ctxrouter.errors import CtxRouterError

if TYPE_CHECKING:
    from ctxrouter.integrations.claude_code.importer import ImportSummary, TranscriptImporter

app = typer.Typer(no_args_is_help=True)

PROGRESS_FROM_BYTES = 32 * 1024 * 1024  # a progress bar for imports that read more than this
PROBLEMS_SHOWN = 10


@app.command("claude-code")
@guarded
def claude_code(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Claude Code's projects folder, or the config folder that holds it."
            " Default: $CLAUDE_CONFIG_DIR/projects, else ~/.claude/projects.",
            show_default=False,
        ),
    ] = None,
    with_text: Annotated[
        bool,
        typer.Option(
            "--with-text", help="Also store the prompt and answer text (not stored by default)."
        ),
    ] = False,
    db: DbOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import Claude Code transcripts: one event per API response, deduplicated as ccusage
    does, priced per day. Run it again to add only what is new."""
    from ctxrouter.integrations.claude_code.importer import TranscriptImporter
    from ctxrouter.integrations.claude_code.projects import default_root, projects_folder
    from ctxrouter.models.bulk_pricing import Pricer

    app_state = state(ctx)
    root = projects_folder(path if path is not None else default_root())
    target = app_state.store_target(db)
    with target.open() as store:
        importer = TranscriptImporter(
            store,
            root,
            pricer=Pricer(app_state.registry()),
            categories=_categories(app_state),
            with_text=with_text,
        )
        importer.plan()
        summary = _run(importer)
    if json_:
        print_json({**summary.to_dict(), "store": target.label})
    else:
        print_summary(summary, store=target.label)  # its "into" row names the store


def _categories(app_state: AppState) -> dict[str, str]:
    """Agent name -> category, from the catalog (none when the catalog cannot be read)."""
    try:
        catalog = app_state.catalog()
    except CtxRouterError as exc:
        first = str(exc).splitlines()[0]
        stderr().print(f"warning: events get no category: {first}", style="yellow", markup=False)
        return {}
    return {agent.name: agent.category for agent in catalog.agents() if agent.category}


def _run(importer: TranscriptImporter) -> ImportSummary:
    """Run the import, with a progress bar on stderr when it is a terminal and the import long."""
    total = importer.pending_bytes
    if total < PROGRESS_FROM_BYTES or not sys.stderr.isatty():
        return importer.run()
    from rich.progress import (
        DownloadColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with progress_bar("importing", *columns) as bar:
        task = bar.add_task("import", total=total)
        return importer.run(progress=lambda done: bar.advance(task, done))


def _n(value: int) -> str:
    return f"{value:,}"


def _tokens(value: int) -> str:
    """Short: 999 / 12.3k / 4.56M / 7.89G (``--json`` has the exact counts)."""
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return str(value)


def _counts(counter: Counter[str], limit: int = 8) -> str:
    shown = [f"{escape(name)} {count:,}" for name, count in counter.most_common(limit)]
    if len(counter) > limit:
        shown.append(f"and {len(counter) - limit} more")
    return " · ".join(shown) or "—"


def print_summary(summary: ImportSummary, *, store: str) -> None:
    """The import's summary for people (``--json`` has every figure)."""
    s = summary
    out = stdout()
    reread = sum(s.files_reread.values())
    files = f"{_n(s.files_found)} found: {_n(s.files_read)} read, {_n(s.files_unchanged)} unchanged"
    if reread:
        files += f" ({_n(reread)} read again from the start: {_counts(s.files_reread)})"
    lines = (
        f"{_n(s.lines_read)} read: {_n(s.response_lines)} report a response,"
        f" {_n(s.other_lines)} other, {_n(sum(s.skipped.values()))} skipped"
    )
    if s.incomplete_lines:
        lines += f", {_n(s.incomplete_lines)} still being written (next time)"
    responses = (
        f"{_n(s.responses + s.already_stored)} distinct: {_n(s.added)} added, {_n(s.updated)}"
        f" updated, {_n(s.already_stored)} already stored; {_n(s.duplicate_lines)} lines were"
        " copies (counted once)"
    )
    t = s.tokens
    written = t["cache_creation_5m"] + t["cache_creation_1h"]
    tokens = (
        f"input {_tokens(t['input'])} · output {_tokens(t['output'])} · cache writes"
        f" {_tokens(written)} (5m {_tokens(t['cache_creation_5m'])}, 1h"
        f" {_tokens(t['cache_creation_1h'])}) · cache reads {_tokens(t['cache_read'])}"
    )
    priced = sum(s.priced.values())
    cost = f"${s.cost_usd:,.2f} for {_n(priced)} priced responses"
    if s.unpriced:
        cost += f"; unpriced (not counted as $0): {_counts(s.unpriced)}"
    table = Table(box=box.SIMPLE_HEAD, show_header=False, show_edge=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    rows = [("from", s.root), ("into", store), ("files", files), ("lines", lines)]
    rows.append(("responses", responses))
    if s.added or s.updated:
        rows += [("tokens", tokens), ("cost", cost), ("agents", _counts(s.agents))]
    if s.skipped:
        rows.append(("skipped", _counts(s.skipped)))
    for name, value in rows:
        table.add_row(name, value)
    out.print(table, highlight=False)
    if s.problem_count:
        out.print(
            f"{_n(s.problem_count)} line(s) could not be read and were skipped"
            + (f"; the first {PROBLEMS_SHOWN}:" if s.problem_count > PROBLEMS_SHOWN else ":"),
            highlight=False,
        )
        for problem in s.problems[:PROBLEMS_SHOWN]:
            out.print(f"  {escape(str(problem))}", highlight=False)
        if s.problem_count > PROBLEMS_SHOWN:
            out.print("  (--json lists more)", style="dim")
