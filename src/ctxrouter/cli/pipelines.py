"""``ctxrouter pipeline list|show|run`` and ``ctxrouter batch run``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import MofNCompleteColumn, TimeElapsedColumn
from rich.table import Table

from ctxrouter.cli.options import AgentsOpt
from ctxrouter.cli.output import guarded, print_json, print_store, progress_bar, stdout
from ctxrouter.cli.state import AppState, state
from ctxrouter.pipelines.loader import load_all, load_pipeline
from ctxrouter.pipelines.report import PipelineReport, report
from ctxrouter.pipelines.spec import PipelineSpec

pipeline_app = typer.Typer(no_args_is_help=True)
batch_app = typer.Typer(no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ProviderOpt = Annotated[
    str | None, typer.Option(help="simulated (offline, the default) or anthropic (needs a key).")
]


def _spec(app: AppState, name: str) -> PipelineSpec:
    return load_pipeline(name, app.catalog(), app.settings.pipeline_dirs)


def _pipeline(
    ctx: typer.Context, name: str, agents: list[Path] | None
) -> tuple[AppState, PipelineSpec]:
    """The command's state (with its ``--agents`` folders) and the pipeline it names."""
    app = state(ctx)
    app.use_agents(agents)
    return app, _spec(app, name)


def spec_record(spec: PipelineSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "claimed_savings_vs_all_sonnet_pct": spec.claimed_savings_vs_all_sonnet_pct,
        "steps": [
            {
                "id": s.id,
                "agent": s.agent,
                "depends_on": list(s.depends_on),
                "batchable": s.batchable,
                "description": s.description,
            }
            for s in spec.steps
        ],
    }


@pipeline_app.command("list")
@guarded
def list_pipelines(ctx: typer.Context, agents: AgentsOpt = None, json_: JsonOpt = False) -> None:
    """List the pipelines (built-in and from your pipeline folders)."""
    app = state(ctx)
    app.use_agents(agents)
    specs = load_all(app.catalog(), app.settings.pipeline_dirs)
    if json_:
        print_json([spec_record(s) for s in specs])
        return
    table = Table(title="pipelines", title_justify="left")
    for col in ("name", "steps", "claimed savings"):
        table.add_column(col)
    catalog = app.catalog()
    for spec in specs:
        chain = " -> ".join(
            f"{s.id} ({catalog[s.agent].policy.preference or 'inherit'})" for s in spec.steps
        )
        claim = spec.claimed_savings_vs_all_sonnet_pct
        table.add_row(spec.name, chain, f"{claim:.0f}%" if claim is not None else "")
    stdout().print(table)


@pipeline_app.command("show")
@guarded
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A pipeline name or a .yaml file.")],
    agents: AgentsOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Show a pipeline's steps, their agents, inputs and dependencies."""
    app, spec = _pipeline(ctx, name, agents)
    if json_:
        print_json(spec_record(spec))
        return
    out = stdout()
    out.print(f"[bold]{spec.name}[/]  {spec.description}", highlight=False)
    for step in spec.steps:
        agent = app.catalog()[step.agent]
        after = f" after {', '.join(step.depends_on)}" if step.depends_on else ""
        flag = " [batchable]" if step.batchable else ""
        out.print(
            f"  {step.id:<10} {step.agent} ({agent.policy.preference or 'inherit'}){after}{flag}",
            highlight=False,
            markup=False,
        )


def print_report(rep: PipelineReport) -> None:
    data = rep.to_dict()
    out = stdout()
    table = Table(title=f"{rep.pipeline}: {'ok' if rep.ok else 'FAILED'}", title_justify="left")
    for col in ("step", "agent", "tier", "model", "tries", "cost", "seconds", "status"):
        table.add_column(col, justify="right" if col in {"tries", "cost", "seconds"} else "left")
    for s in data["steps"]:
        cost = f"${s['cost_usd']:.6f}" if s["cost_usd"] is not None else ""
        table.add_row(
            s["id"], s["agent"], s["tier"] or "", s["model"] or "", str(s["attempts"] or ""),
            cost, f"{s['duration_s']:.2f}", s["status"],
        )  # fmt: skip
    out.print(table)
    tiers = ", ".join(f"{n} {t}" for t, n in data["calls_by_tier"].items())
    claim = data["claimed_savings_vs_all_sonnet_pct"]
    lines = [
        f"calls      {tiers} ({data['errors']} failed attempts, {data['escalations']} "
        f"escalation(s), {data['fallbacks']} fallback(s))",
        f"tokens     {data['tokens']['input_tokens']:,} in, "
        f"{data['tokens']['output_tokens']:,} out",
        f"cost       ${data['cost_usd']:.6f}   all-sonnet ${data['all_sonnet_usd']:.6f}   "
        f"all-opus ${data['all_opus_usd']:.6f}",
        f"savings    {_pct(data['savings_vs_all_sonnet_pct'])} vs all-sonnet"
        + (f" (claimed {claim:.0f}%)" if claim is not None else "")
        + f", {_pct(data['savings_vs_all_opus_pct'])} vs all-opus",
        f"wall       {data['wall_s']:.2f} s; critical path "
        f"{' -> '.join(data['critical_path'])} ({data['critical_path_s']:.2f} s)",
    ]
    for line in lines:
        out.print(line, highlight=False, markup=False)


def _pct(value: float | None) -> str:
    return f"{value:.1f}%" if value is not None else "n/a"


@pipeline_app.command("run")
@guarded
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A pipeline name or a .yaml file.")],
    task: Annotated[str, typer.Option("--task", "-t", help="The task, in words.")],
    provider: ProviderOpt = None,
    agents: AgentsOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Run a pipeline on one task: every step routed, run, and accounted for."""
    from ctxrouter.errors import InputError
    from ctxrouter.pipelines.engine import PipelineRunner

    app, spec = _pipeline(ctx, name, agents)
    if not task.strip():
        raise InputError("--task is empty: describe the task in words")
    where = app.store_target().label

    async def go() -> tuple[PipelineReport, str | None]:
        async with app.runtime(provider) as runtime:
            runner = PipelineRunner(runtime.executor, runtime.clock)
            result = await runner.run(spec, task)
            return report(result, runtime.registry), result.output

    rep, output = asyncio.run(go())
    if json_:
        print_json({**rep.to_dict(), "output": output, "store": where})
    else:
        print_report(rep)
        print_store(where, verb="events recorded in")
    if not rep.ok:
        raise typer.Exit(1)


@batch_app.command("run")
@guarded
def batch_run(
    ctx: typer.Context,
    pipeline: Annotated[str, typer.Argument(help="A pipeline name or a .yaml file.")],
    tasks: Annotated[Path, typer.Argument(help='JSONL: one {"task": ..., "id": ...} a line.')],
    concurrency: Annotated[int, typer.Option(min=1, help="Tasks in flight at once.")] = 8,
    output: Annotated[
        Path | None,
        typer.Option(help="Results JSONL (default: TASKS with .results.jsonl); resumes from it."),
    ] = None,
    restart: Annotated[
        bool, typer.Option(help="Ignore earlier results and run every task again.")
    ] = False,
    provider: ProviderOpt = None,
    batch_api: Annotated[
        bool,
        typer.Option(help="Send batchable steps through the Message Batches API (anthropic)."),
    ] = False,
    agents: AgentsOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Run a pipeline over many tasks, with a progress bar; rerun to resume after a stop."""
    from ctxrouter.pipelines.batch import read_tasks, run_batch
    from ctxrouter.pipelines.engine import PipelineRunner

    app, spec = _pipeline(ctx, pipeline, agents)
    items = read_tasks(tasks)
    results = output or tasks.with_suffix(".results.jsonl")
    if restart and results.exists():
        results.unlink()
    where = app.store_target().label

    async def go() -> Any:
        async with app.runtime(provider, batch=batch_api) as runtime:
            runner = PipelineRunner(runtime.executor, runtime.clock, batch=batch_api)
            columns = (MofNCompleteColumn(), TimeElapsedColumn())
            with progress_bar("{task.description}", *columns, transient=json_) as progress:
                bar = progress.add_task(spec.name, total=len(items))

                def done(_: PipelineReport) -> None:
                    progress.advance(bar)

                summary = await run_batch(
                    runner, spec, items, runtime.registry,
                    results=results, concurrency=concurrency, on_done=done,
                )  # fmt: skip
                progress.update(bar, completed=len(items))
            return summary

    summary = asyncio.run(go())
    data = summary.to_dict()
    if json_:
        print_json({**data, "store": where})
    else:
        out = stdout()
        out.print(
            f"{data['ok']} ok, {data['failed']} failed, {data['already_done']} already done "
            f"(of {data['tasks']}); results in {results}",
            highlight=False,
        )
        tiers = ", ".join(f"{n} {t}" for t, n in data["calls_by_tier"].items())
        out.print(
            f"calls {tiers}; cost ${data['cost_usd']:.4f}; savings "
            f"{_pct(data['savings_vs_all_sonnet_pct'])} vs all-sonnet, "
            f"{_pct(data['savings_vs_all_opus_pct'])} vs all-opus",
            highlight=False,
        )
        print_store(where, verb="events recorded in")
    if summary.failed:
        raise typer.Exit(1)
