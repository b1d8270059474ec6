"""``ctxrouter hook ...``: the Claude Code hooks and their helper process."""

from __future__ import annotations

from typing import Annotated

import typer

from ctxrouter.cli.output import guarded, print_json, stdout

app = typer.Typer(no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("pre-tool-use")
def pre_tool_use() -> None:
    """Claude Code's PreToolUse hook: reads the event on stdin and, for an Agent call to a
    subagent the catalog knows, prints updatedInput with the routed model (haiku, sonnet or
    opus). Prints nothing otherwise, and on any error (logged to hook.log). Always exits 0.
    Install it with `ctxrouter install-hook`."""
    from ctxrouter.integrations.claude_code.hook import main

    raise typer.Exit(main())


@app.command("status")
@guarded
def status(json_: JsonOpt = False) -> None:
    """Is the hook's helper process running for this environment?"""
    from ctxrouter.integrations.claude_code.hook import ask_helper, socket_path

    path = socket_path()
    reply = ask_helper(path, {"cmd": "ping"})
    data = {"socket": str(path), "running": reply is not None, "pid": (reply or {}).get("pid")}
    if json_:
        print_json(data)
        return
    shown = (
        f"running (pid {data['pid']})" if reply else "not running (the next hook call starts it)"
    )
    stdout().print(f"hook helper: {shown}; socket {path}", highlight=False, markup=False)


@app.command("stop")
@guarded
def stop() -> None:
    """Stop the hook's helper process (the next hook call starts a fresh one)."""
    from ctxrouter.integrations.claude_code.hook import ask_helper, socket_path

    reply = ask_helper(socket_path(), {"cmd": "stop"})
    stdout().print("stopped" if reply else "not running", highlight=False, markup=False)
