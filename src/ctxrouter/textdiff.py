"""The unified diff every command that edits a file shows before (``--dry-run``) or after it
writes: ``export claude-code``, ``install-hook``, ``profile --apply``."""

from __future__ import annotations

import difflib


def unified_diff(before: str, after: str, old: str, new: str) -> str:
    """``before`` to ``after`` as a unified diff with the headers ``old`` and ``new`` (``""``
    when they are the same); line endings are kept as they are (a CRLF file shows its CRs)."""
    if before == after:
        return ""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=old,
            tofile=new,
        )
    )


__all__ = ["unified_diff"]
