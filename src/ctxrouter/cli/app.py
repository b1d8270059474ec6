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

    app.add_typer(agents.app, name="agents", help="List, show and lint agent definitions.")
    app.add_typer(models.app, name="models", help="Model ids, tiers and prices.")
    app.add_typer(cost.app, name="cost", help="Cost analysis and projections.")
    app.add_typer(pipelines.pipeline_app, name="pipeline", help="Multi-agent pipelines.")
    app.add_typer(pipelines.batch_app, name="batch", help="Run a pipeline over many tasks.")
    app.add_typer(simulate.app, name="simulate", help="Simulated fleet workloads.")
    app.add_typer(
        alerts.app, name="alerts", help="Alert rules over the fleet's metrics (exit 1 on alert)."
    )
    app.add_typer(imports.app, name="import", help="Import usage recorded elsewhere.")
    app.add_typer(exports.app, name="export", help="Write the policy where other tools read it.")
    app.add_typer(hooks.app, name="hook", help="Claude Code hooks (run by Claude Code).")
    app.add_typer(keys.app, name="keys", help="Gateway keys (for `serve` beyond loopback).")
    app.command("assign")(assign.assign)
    app.command("route")(runs.route)
    app.command("run")(runs.run)
    app.command("feedback")(runs.feedback)
    app.command("events")(events.events)
    app.command("metrics")(metrics.metrics)
    app.command("whatif")(whatif.whatif)
    app.command("profile")(profile.profile)
    app.command("dashboard")(dashboard.dashboard)
    app.command("report")(dashboard.report)
    app.command("serve")(serve.serve)
    app.command("install-hook")(install_hook.install_hook)
    app.command("demo")(demo.demo)


_register()


def main() -> None:
    app()
