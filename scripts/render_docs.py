"""Re-run every ``$ ctxrouter ...`` console block of README.md and docs/*.md, in place.

The docs show real output: each block starting with ``$ ctxrouter ARGS`` is replaced by what
that command prints (120 columns, the built-in defaults). ``tests/test_docs.py`` fails when a
block is stale, so run this after a change that alters output:

    .venv/bin/python scripts/render_docs.py          # rewrite
    .venv/bin/python scripts/render_docs.py --check  # exit 1 if anything is stale
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tempfile
from pathlib import Path

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(```console\n\$ ctxrouter (?P<cmd>[^\n]*)\n)(?P<out>.*?)(```)", re.S)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def run(command: str) -> str:
    """The output of ``ctxrouter <command>``, in a clean HOME so no user config leaks in."""
    from ctxrouter.cli.app import app

    with tempfile.TemporaryDirectory() as home:
        env = {
            "COLUMNS": "120",
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/.config",
            "XDG_DATA_HOME": f"{home}/.local/share",
        }
        clean = {k: None for k in os.environ if k.startswith("CTXROUTER_")}
        result = CliRunner(env={**clean, **env}).invoke(app, shlex.split(command))
    if result.exit_code not in (0, 1):
        raise RuntimeError(f"ctxrouter {command} exited {result.exit_code}:\n{result.output}")
    return "".join(line.rstrip() + "\n" for line in result.stdout.splitlines())


def render(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + run(m.group("cmd")) + m.group(4), text)


def main(argv: list[str]) -> int:
    stale = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        new = render(text)
        if new != text:
            stale.append(path.relative_to(ROOT))
            if "--check" not in argv:
                path.write_text(new, encoding="utf-8")
    verb = "stale" if "--check" in argv else "rewritten"
    for path in stale:
        print(f"{verb}: {path}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
