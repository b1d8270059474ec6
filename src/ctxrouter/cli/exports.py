"""``ctxrouter export ...``: write the fleet's policy where other tools read it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ctxrouter.cli.output import fail, guarded, print_json, stderr, stdout
from ctxrouter.cli.state import state

if TYPE_CHECKING:
    from ctxrouter.integrations.claude_code.export import FileExport

app = typer.Typer(no_args_is_help=True)
_PLAIN: dict[str, Any] = {"markup": False, "highlight": False, "soft_wrap": True}


@app.command("claude-code")
@guarded
def claude_code(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Option("--dir", help="The Claude Code agents folder to write into.")
    ] = Path(".claude/agents"),
    create: Annotated[
        bool,
        typer.Option("--create", help="Also create a file for each catalog agent not there yet."),
    ] = False,
    agents: Annotated[
        list[str] | None,
        typer.Option("--agent", help="Only this catalog agent (repeatable)."),
    ] = None,
    catalog_dirs: Annotated[
        list[Path] | None,
        typer.Option(
            "--agents", "--catalog", help="Extra agent folder for the catalog (repeatable)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print a unified diff; write nothing.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Write each agent's catalog tier into the model: line of its Claude Code agent file.

    Only that line changes (or is added): comments, quoting, key order and line endings stay.
    A context-dependent agent gets its base tier; claude-ctx files, whose model: mapping is
    the whole policy, are left as they are. Exits 1 when a broken file was skipped.
    """
    from ctxrouter.integrations.claude_code import export

    catalog = state(ctx).catalog(catalog_dirs, exclude=[folder])  # its files are the output
    only = {catalog.get_agent(name).name for name in agents} if agents else None
    if folder.exists() and not folder.is_dir():
        raise fail(f"--dir {folder}: not a folder")
    if not folder.exists() and not create:
        raise fail(f"--dir {folder}: no such folder (give --create to create it with agents)")
    texts, unreadable = export.read_folder(folder)
    plan = export.plan_export(
        folder, texts, catalog, create=create, only=only, unreadable=unreadable
    )
    if not dry_run:
        try:
            export.write(plan)
        except OSError as exc:
            raise fail(f"cannot write {exc.filename or folder}: {exc.strerror or exc}") from None
    if json_:
        print_json(_summary(folder, plan, dry_run=dry_run))
    else:
        _print(plan, dry_run=dry_run)
    if any(e.error for e in plan):
        raise typer.Exit(1)


def _summary(folder: Path, plan: list[FileExport], *, dry_run: bool) -> dict[str, Any]:
    from ctxrouter.integrations.claude_code.export import EXPORT_ACTIONS
    from ctxrouter.integrations.claude_code.files import Action

    out: dict[str, Any] = {"dir": str(folder), "dry_run": dry_run}
    for action in EXPORT_ACTIONS:
        out[action.value] = []
    for e in plan:
        record: dict[str, Any] = {"agent": e.agent, "path": str(e.path)}
        if e.action is Action.SKIPPED:
            record.update(reason=e.note, error=e.error)
        else:
            if e.action is not Action.CREATED:
                record["from"] = e.old_model
            record["to"] = e.tier.value if e.tier else None
            record["note"] = e.note
            if dry_run and e.action is not Action.UNCHANGED:
                record["diff"] = e.diff()
        out[e.action.value].append(record)
    out["counts"] = {action.value: len(out[action.value]) for action in EXPORT_ACTIONS}
    return out


def _print(plan: list[FileExport], *, dry_run: bool) -> None:
    from ctxrouter.integrations.claude_code.export import EXPORT_ACTIONS
    from ctxrouter.integrations.claude_code.files import Action

    if dry_run:
        sys.stdout.write("".join(e.diff() for e in plan))  # as is: CRLF files show their CRs
    # with --dry-run the diff is the data (it can be piped to a file) and this goes to stderr
    out = stderr() if dry_run else stdout()
    for e in plan:
        if e.action is Action.SKIPPED:
            what = e.note
        elif e.action is Action.CHANGED:
            old = "(no model)" if e.old_model is None else e.old_model or "(empty)"
            what = f"{e.agent}: {old} -> {e.tier}"
        else:
            what = f"{e.agent}: {e.tier}"
        out.print(f"{e.action.value:<10}{e.path}  {what}", **_PLAIN)
        if e.note and e.action is not Action.SKIPPED:
            out.print(f"{'':<10}{e.note}", **_PLAIN)
    counts = {a: sum(1 for e in plan if e.action is a) for a in EXPORT_ACTIONS}
    tail = "; dry run: nothing written" if dry_run else ""
    summary = ", ".join(f"{n} {a.value}" for a, n in counts.items())
    out.print(f"{len(plan)} file(s): {summary}{tail}", **_PLAIN)
