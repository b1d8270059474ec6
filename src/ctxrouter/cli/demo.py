"""``ctxrouter demo``: a tour of the main job on the embedded defaults (no key, no server)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.rule import Rule

from ctxrouter.cli.output import errors_as_exit, stdout

TOUR: list[tuple[str, list[str]]] = [
    ("The default catalog: 67 agents and their model policies", ["agents", "list"]),
    (
        "A context-dependent agent: haiku by default, sonnet on its conditions",
        ["agents", "show", "database-optimizer"],
    ),
    (
        "Code from a spec goes to haiku",
        ["assign", "--task", "Implement the endpoints described in this OpenAPI spec"],
    ),
    ("A threat model goes to sonnet", ["assign", "--task", "Threat model the payment API"]),
    (
        "The agent's policy applies on top of the matrix",
        [
            "assign",
            "--agent",
            "database-optimizer",
            "--task",
            "Redesign the schema so that tenants are isolated",
        ],
    ),
    ("Models and the prices in force today", ["models", "list"]),
    ("The strategy's workload, priced correctly", ["cost", "project"]),
    (
        "Routing a context-dependent agent: the trace says why",
        ["route", "refactoring-expert", "Split the monolith: new module boundaries for billing"],
    ),
    (
        "A routed run on the simulated provider (offline): retries, escalation, cost",
        ["run", "python-pro", "Implement the endpoints described in this OpenAPI spec"],
    ),
    (
        "A security task lifts a haiku agent to sonnet",
        ["run", "python-pro", "Fix the SQL injection in the login handler"],
    ),
    ("Every attempt is an event in the local store", ["events", "--limit", "5"]),
]


def demo(
    ctx: typer.Context,
    tour: Annotated[
        bool, typer.Option(help="A tour of the commands instead of the fleet month.")
    ] = False,
    days: Annotated[int | None, typer.Option(min=1, help="Days to simulate (default 30).")] = None,
    json_: Annotated[
        bool, typer.Option("--json", help="Print the month's summary as JSON.")
    ] = False,
) -> None:
    """The main job on the built-in defaults: a simulated fleet month (no key, no server)."""
    if not tour:
        from ctxrouter.cli.simulate import run_month

        with errors_as_exit():
            run_month(
                ctx, days=days, tasks_per_day=None, seed=0, plan_file=None, db=None, json_=json_
            )
        return
    from ctxrouter.cli.app import app

    root = typer.main.get_command(app)
    out = stdout()
    for title, args in TOUR:
        out.print()
        out.print(Rule(f"[bold]{title}[/]", align="left"))
        out.print(f"[dim]$ ctxrouter {' '.join(_quote(a) for a in args)}[/]", highlight=False)
        root.main(args, prog_name="ctxrouter", standalone_mode=False, obj=ctx.obj)


def _quote(arg: str) -> str:
    return f'"{arg}"' if " " in arg else arg
