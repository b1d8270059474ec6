"""The ``ctxrouter`` command line: one Typer app, one module per command group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ctxrouter.cli.state import AppState

app = typer.Typer(
    name="ctxrouter",
    help="Give every agent of an agent fleet the right Claude model for the job.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config file (TOML); default: $CTXROUTER_CONFIG, else the user config dir.",
        ),
    ] = None,
) -> None:
    ctx.obj = AppState(config_file=config)


def _register() -> None:
    """Attach the command groups. Each module owns its commands."""
    from ctxrouter.cli import (
        agents,
        alerts,
        assign,
        cost,
        dashboard,
        demo,
        events,
        exports,
        hooks,
        imports,
        install_hook,
        keys,
        metrics,
        models,
        pipelines,
        profile,
        runs,
        serve,
        simulate,
        whatif,
    )

    groups = [
        (agents.app, "agents", "List, show and lint agent definitions."),
        (models.app, "models", "Model ids, tiers and prices."),
        (cost.app, "cost", "Cost analysis and projections."),
        (pipelines.pipeline_app, "pipeline", "Multi-agent pipelines."),
        (pipelines.batch_app, "batch", "Run a pipeline over many tasks."),
        (simulate.app, "simulate", "Simulated fleet workloads."),
        (alerts.app, "alerts", "Alert rules over the fleet's metrics (exit 1 on alert)."),
        (imports.app, "import", "Import usage recorded elsewhere."),
        (exports.app, "export", "Write the policy where other tools read it."),
        (hooks.app, "hook", "Claude Code hooks (run by Claude Code)."),
        (keys.app, "keys", "Gateway keys (for `serve` beyond loopback)."),
    ]
    for group, name, text in groups:
        app.add_typer(group, name=name, help=text)
    commands = {
        "assign": assign.assign,
        "route": runs.route,
        "run": runs.run,
        "feedback": runs.feedback,
        "events": events.events,
        "metrics": metrics.metrics,
        "whatif": whatif.whatif,
        "profile": profile.profile,
        "dashboard": dashboard.dashboard,
        "report": dashboard.report,
        "serve": serve.serve,
        "install-hook": install_hook.install_hook,
        "demo": demo.demo,
    }
    for name, command in commands.items():
        app.command(name)(command)


_register()


def main() -> None:
    app()
