"""``ctxrouter hook pre-tool-use`` (being written, issue 7)."""

from __future__ import annotations


def main() -> int:
    return 0
