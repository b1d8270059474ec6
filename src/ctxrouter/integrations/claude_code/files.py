"""Claude Code's files (agent files, settings.json), written so a crash never half-writes one."""

from __future__ import annotations

import os
import secrets
import stat
from enum import StrEnum
from pathlib import Path


class Action(StrEnum):
    """What a command did (or, in a dry run, would do) to one of Claude Code's files."""

    CREATED = "created"  # export --create: a new agent file
    CHANGED = "changed"  # export: the model: line written
    ADDED = "added"  # install-hook: the hook entry added to settings
    UPDATED = "updated"  # install-hook: an older ctxrouter entry brought up to date
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # export: not ours to write, or unreadable (the note says which)


def read_text_exact(path: Path) -> str:
    """The file's text with its line endings as they are (``read_text`` would turn CRLF
    into LF). Raises ``OSError`` or ``UnicodeDecodeError``."""
    return path.read_bytes().decode("utf-8")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, line endings untouched) to a temporary file in the same folder,
    flush it to disk, then rename it over ``path``: a reader sees the old file or the new one.

    An existing file keeps its permission bits; a new one gets the umask's default. A symbolic
    link (a settings file kept in a dotfiles repository) stays a link: its target is written.
    """
    if path.is_symlink():
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            temp.chmod(mode)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
