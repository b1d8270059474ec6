"""``ctxrouter agents``: list, show and lint agent definitions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ctxrouter.catalog.agent import Agent
from ctxrouter.catalog.loader import lint as lint_paths
from ctxrouter.cli.options import AgentsOpt, JsonOpt
from ctxrouter.cli.output import guarded, print_json, stderr, stdout
from ctxrouter.cli.state import state
from ctxrouter.policy.model_policy import PolicyKind

app = typer.Typer(no_args_is_help=True)

DirsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Extra agent folders; their agents override the built-ins by name."),
]


def agent_record(agent: Agent, *, full: bool = False) -> dict[str, Any]:
    """The JSON form of an agent (``full`` adds the body and every extra field)."""
    pol = agent.policy
    record: dict[str, Any] = {
        "name": agent.name,
        "description": agent.description,
        "category": agent.category,
        "tags": list(agent.tags),
        "policy": pol.kind.value,
        "default_tier": pol.preference.value if pol.preference else "inherit",
        "fallbacks": [t.value for t in pol.fallbacks],
        "escalation": None,
        "fast_path": None,
        "reasoning": pol.reasoning,
        "format": agent.format.value,
        "builtin": agent.builtin,
        "source": str(agent.source) if agent.source else None,
    }
    if pol.escalation is not None:
        block = {"to": pol.escalation.to.value, "when": list(pol.escalation.when)}
        record["fast_path" if pol.kind is PolicyKind.FAST_PATH else "escalation"] = block
    if full:
        record["tools"] = list(agent.tools)
        record["extra"] = agent.extra
        record["body"] = agent.body
    return record


def _conditions(agent: Agent, *, short: bool = False) -> str:
    esc = agent.policy.escalation
    if esc is None:
        return ""
    arrow = "↑" if agent.policy.kind is PolicyKind.ESCALATES else "↓"
    if short:
        more = f" +{len(esc.when) - 1}" if len(esc.when) > 1 else ""
        return f'{arrow} {esc.to.value}: "{esc.when[0]}"{more}'
    return f"{arrow} {esc.to.value} when " + "; ".join(f'"{w}"' for w in esc.when)


@app.command("list")
@guarded
def list_agents(
    ctx: typer.Context,
    dirs: DirsArg = None,
    tier: Annotated[
        str | None, typer.Option(help="Only agents whose default tier is this.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List the agents: default tier, fallbacks, escalation and fast-path conditions."""
    catalog = state(ctx).catalog(dirs)
    agents = catalog.agents()
    if tier:
        from ctxrouter.policy.tier import parse_tier

        wanted = parse_tier(tier, where="--tier")
        agents = [a for a in agents if a.policy.preference == wanted]
    if category:
        agents = [a for a in agents if a.category.lower() == category.lower()]
    if json_:
        print_json(
            {
                "count": len(agents),
                "summary": catalog.summary(),
                "agents": [agent_record(a) for a in agents],
            }
        )
        _exit_if_skipped(ctx)
        return
    table = Table(title=f"{len(agents)} agents", title_justify="left", expand=False)
    table.add_column("agent", no_wrap=True)
    table.add_column("category", min_width=12)
    table.add_column("tier", no_wrap=True)
    table.add_column("fallbacks", no_wrap=True)
    table.add_column("conditions", overflow="fold")
    for a in agents:
        pol = a.policy
        table.add_row(
            a.name + (" *" if a.name in catalog.overridden else ""),
            a.category,
            pol.preference.value if pol.preference else "inherit",
            ", ".join(t.value for t in pol.fallbacks),
            _conditions(a, short=True),
        )
    out = stdout()
    out.print(table)
    summary = ", ".join(f"{n} {k}" for k, n in catalog.summary().items())
    out.print(f"catalog: {summary}" + ("   (* overrides a built-in)" if catalog.overridden else ""))
    _exit_if_skipped(ctx)


def _exit_if_skipped(ctx: typer.Context) -> None:
    """A listing that had to skip agent files exits 1 (the files are named on stderr)."""
    if any(p.severity == "error" for p in state(ctx).catalog_problems):
        raise typer.Exit(1)


@app.command("show")
@guarded
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent's name.")],
    dirs: AgentsOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Show one agent: its policy, the reasoning, and where it was defined."""
    agent = state(ctx).catalog(dirs).get_agent(name)
    record = agent_record(agent, full=True)
    if json_:
        print_json(record)
        return
    out = stdout()
    out.print(f"[bold]{agent.name}[/]  {agent.description}")
    rows = [
        ("category", agent.category),
        ("default tier", record["default_tier"]),
        ("fallbacks", ", ".join(record["fallbacks"]) or "none"),
        ("conditions", _conditions(agent) or "none"),
        ("reasoning", agent.policy.reasoning),
        ("tags", ", ".join(agent.tags)),
        ("source", f"{agent.source}" + (" (built-in)" if agent.builtin else "")),
    ]
    for label, value in rows:
        out.print(f"  {label:<13}{value}", highlight=False, markup=False)


@app.command("lint")
@guarded
def lint(
    paths: Annotated[list[Path], typer.Argument(help="Agent folders or files to check.")],
    json_: JsonOpt = False,
) -> None:
    """Check agent files; exits 1 on any error (warnings are printed, not fatal)."""
    problems = lint_paths(paths)
    errors = [p for p in problems if p.severity == "error"]
    if json_:
        print_json(
            {
                "ok": not errors,
                "errors": len(errors),
                "warnings": len(problems) - len(errors),
                "problems": [
                    {
                        "path": str(p.path) if p.path else None,
                        "line": p.line,
                        "field": p.field,
                        "severity": p.severity,
                        "message": p.message,
                    }
                    for p in problems
                ],
            }
        )
    else:
        err = stderr()
        for p in problems:
            style = "red" if p.severity == "error" else "yellow"
            err.print(f"[{style}]{p}[/]", highlight=False)
        n_files = sum(1 for _ in _count_files(paths))
        err.print(
            f"{n_files} file(s) checked: {len(errors)} error(s), "
            f"{len(problems) - len(errors)} warning(s)"
        )
    if errors:
        raise typer.Exit(1)


def _count_files(paths: list[Path]) -> list[Path]:
    from ctxrouter.catalog.loader import agent_files

    out: list[Path] = []
    for p in paths:
        out.extend([p] if p.is_file() else agent_files(p) if p.exists() else [])
    return out
