"""Add ctxrouter's PreToolUse hook to a Claude Code ``settings.json``, keeping everything else.

The hook schema of Claude Code 2.1.x (hooks reference, https://code.claude.com/docs/en/hooks,
formerly https://docs.claude.com/en/docs/claude-code/hooks; the 2.1.328 binary describes
``timeout`` as "Timeout in seconds for this specific command")::

    {"hooks": {"PreToolUse": [                  # one list per event
        {"matcher": "Agent",                    # tool name: exact, "A|B", or a regex;
                                                # "*", "" or no matcher: every tool
         "hooks": [{"type": "command",          # run with bash -c, the call as JSON on stdin
                    "command": "...",
                    "timeout": 60}]}]}}         # optional, in seconds

Settings files: ``~/.claude/settings.json`` (user), ``.claude/settings.json`` (project,
shared), ``.claude/settings.local.json`` (project, not committed). In 2.1.x the tool that
spawns subagents is ``Agent`` (it was ``Task`` before).

An existing ctxrouter entry is recognised by its command (``... ctxrouter hook pre-tool-use``,
``python -m ctxrouter hook pre-tool-use``), whatever its path: it is updated in place, never
added twice. Everything else in the file is kept, in its order; a file that is not valid JSON
is an error naming its line, and is never overwritten.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctxrouter.errors import ConfigError
from ctxrouter.integrations.claude_code.files import Action, read_text_exact, write_atomic

EVENT = "PreToolUse"
MATCHER = "Agent"
HOOK_ARGS = "hook pre-tool-use"
_OURS = re.compile(r"""(?:^|[\s/\\'"])ctxrouter(?:\.exe)?['"]?\s+hook\s+pre-tool-use(?:\s|$)""")


@dataclass(frozen=True, slots=True)
class Install:
    """What installing the hook does to one settings file."""

    path: Path
    action: Action
    command: str
    before: str  # the file's text ('' when it does not exist)
    after: str
    changes: list[str] = field(default_factory=list)  # what was done, for people


# ---- pure ---------------------------------------------------------------------------------


def hook_command(executable: Path | str) -> str:
    """The command line Claude Code runs (through bash): the path quoted when it needs it."""
    return f"{shlex.quote(str(executable))} {HOOK_ARGS}"


def is_ctxrouter_hook(hook: Any) -> bool:
    """A hook entry that runs ``ctxrouter hook pre-tool-use``, from any path."""
    return (
        isinstance(hook, dict)
        and hook.get("type") == "command"
        and isinstance(hook.get("command"), str)
        and _OURS.search(hook["command"]) is not None
    )


def matches_agent(matcher: Any) -> bool:
    """Whether a matcher applies to the ``Agent`` tool, as Claude Code reads it."""
    if matcher is None or matcher in ("", "*"):
        return True
    if not isinstance(matcher, str):
        return False
    if re.fullmatch(r"[\w\s,|-]+", matcher):  # exact names, "A|B"
        return MATCHER in (part.strip() for part in re.split(r"[|,]", matcher))
    try:
        return re.search(matcher, MATCHER) is not None
    except re.error:
        return False


def merge_hook(
    settings: Any, command: str, where: str = "settings.json"
) -> tuple[dict[str, Any], list[str]]:
    """``settings`` with the hook in it (a copy) and what changed (empty: it was there).

    Raises :class:`ConfigError` when the file's shape is not Claude Code's.
    """
    if not isinstance(settings, dict):
        raise ConfigError(f"{where}: the settings must be a JSON object {{...}}")
    out = copy.deepcopy(settings)
    hooks = out.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise ConfigError(f"{where}: 'hooks' must be an object, not {_kind(hooks)}")
    groups = hooks.setdefault(EVENT, [])
    if not isinstance(groups, list):
        raise ConfigError(f"{where}: 'hooks.{EVENT}' must be a list, not {_kind(groups)}")
    changes: list[str] = []
    emptied: set[int] = set()
    kept = False
    for index, group in enumerate(groups):
        if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
            continue  # not ours to judge: Claude Code reports it
        for hook in [h for h in group["hooks"] if is_ctxrouter_hook(h)]:
            if not kept and matches_agent(group.get("matcher")):
                kept = True
                if hook["command"] != command:
                    changes.append(f"updated the command (was {hook['command']})")
                    hook["command"] = command
            else:  # a second copy, or one that never sees the Agent tool
                group["hooks"].remove(hook)
                changes.append(f"removed a ctxrouter hook from {EVENT}[{index}]")
                if not group["hooks"]:
                    emptied.add(index)
    groups[:] = [g for i, g in enumerate(groups) if i not in emptied]
    if not kept:
        groups.append({"matcher": MATCHER, "hooks": [{"type": "command", "command": command}]})
        changes.append(f"added {EVENT} hook (matcher {MATCHER})")
    return out, changes


def parse_settings(text: str, where: str = "settings.json") -> Any:
    """The JSON of a settings file; an empty file is ``{}``. Raises :class:`ConfigError`
    with the line and column of a syntax error."""
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "
            "fix it, then run install-hook again (the file was left as it is)"
        ) from None


def render_settings(data: dict[str, Any], original: str = "") -> str:
    """``data`` as JSON in the original file's indentation and line endings."""
    found = re.search(r"^([ \t]+)\S", original, re.M)
    indent: str | int = found.group(1) if found else 2
    text = json.dumps(data, indent=indent, ensure_ascii=False) + "\n"
    return text.replace("\n", "\r\n") if "\r\n" in original else text


def _kind(value: Any) -> str:
    kinds = ((dict, "an object"), (list, "a list"), (str, "a string"), (bool, "a boolean"))
    for kind, name in kinds:
        if isinstance(value, kind):
            return name
    return "null" if value is None else "a number"


# ---- I/O at the edge ------------------------------------------------------------------------


def settings_path(*, user: bool, cwd: Path | None = None, home: Path | None = None) -> Path:
    """``~/.claude/settings.json`` (user) or ``.claude/settings.json`` in ``cwd`` (project)."""
    if user:
        return (home or Path.home()) / ".claude" / "settings.json"
    return (cwd or Path.cwd()) / ".claude" / "settings.json"


def find_ctxrouter() -> Path:
    """The ``ctxrouter`` console script: the one installed beside the running Python (the
    same installation as this code), else the first on ``PATH``."""
    names = ("ctxrouter.exe", "ctxrouter") if sys.platform == "win32" else ("ctxrouter",)
    for name in names:
        beside = Path(sys.executable).parent / name
        if beside.is_file():
            return beside.absolute()
    found = shutil.which("ctxrouter")
    if found:
        return Path(found).absolute()
    raise ConfigError(
        "cannot find the ctxrouter command (not beside "
        f"{sys.executable}, not on PATH): install ctxrouter with pip first"
    )


def install(path: Path, command: str, *, dry_run: bool = False) -> Install:
    """Merge the hook into the settings file at ``path`` (created when absent) and write it
    atomically, unless ``dry_run`` or nothing changes."""
    try:
        before = read_text_exact(path) if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    merged, changes = merge_hook(parse_settings(before, str(path)), command, str(path))
    if not changes:
        return Install(path, Action.UNCHANGED, command, before, before)
    after = render_settings(merged, before)
    action = Action.ADDED if any(c.startswith("added") for c in changes) else Action.UPDATED
    if not dry_run:
        try:
            write_atomic(path, after)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return Install(path, action, command, before, after, changes)
