"""The ``ctxrouter`` console script.

Claude Code runs ``ctxrouter hook pre-tool-use`` before every matching tool call and waits
for it, so that path must not load the whole command line (Typer, Rich, pydantic): it is
dispatched here, on the raw arguments, before anything else is imported.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:3] == ["hook", "pre-tool-use"] and len(sys.argv) == 3:
        from ctxrouter.integrations.claude_code.hook import main as hook_main

        raise SystemExit(hook_main())
    from ctxrouter.cli.app import main as cli_main

    cli_main()
