"""``ctxrouter install-hook``: add the PreToolUse hook to Claude Code's settings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ctxrouter.cli.output import guarded, print_json, stderr, stdout
from ctxrouter.textdiff import unified_diff


@guarded
def install_hook(
    user: Annotated[
        bool,
        typer.Option(
            "--user/--project",
            help="Write ~/.claude/settings.json (--user) or .claude/settings.json in the "
            "working directory (--project, the default).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print a unified diff; write nothing.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Add the PreToolUse hook (ctxrouter hook pre-tool-use) to Claude Code's settings.json.

    Idempotent: an existing ctxrouter hook is updated (its path may differ), never doubled;
    every other setting and hook is kept.
    """
    from ctxrouter.integrations.claude_code import settings_file

    path = settings_file.settings_path(user=user)
    command = settings_file.hook_command(settings_file.find_ctxrouter())
    existed = path.exists()
    done = settings_file.install(path, command, dry_run=dry_run)
    old, new = _diff_names(path)
    diff = unified_diff(done.before, done.after, old if existed else "/dev/null", new)
    if json_:
        record = {
            "path": str(path),
            "scope": "user" if user else "project",
            "action": done.action.value,
            "command": command,
            "changes": done.changes,
            "dry_run": dry_run,
        }
        print_json({**record, "diff": diff} if dry_run else record)
        return
    if dry_run:
        sys.stdout.write(diff)
    out = stderr() if dry_run else stdout()
    verb = {"added": "added", "updated": "updated", "unchanged": "already there"}
    tail = "  (dry run: nothing written)" if dry_run else ""
    out.print(
        f"{verb[done.action.value]}: {path}{tail}", markup=False, highlight=False, soft_wrap=True
    )
    for change in done.changes:
        out.print(f"  {change}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"  hook: {command}", markup=False, highlight=False, soft_wrap=True)


def _diff_names(path: Path) -> tuple[str, str]:
    """Diff headers: ``a/``, ``b/`` and relative when the file is below here, else absolute."""
    try:
        here = path.relative_to(Path.cwd())
    except ValueError:
        return str(path), str(path)
    return f"a/{here}", f"b/{here}"
