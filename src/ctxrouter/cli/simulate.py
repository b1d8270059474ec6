"""``ctxrouter simulate month`` (and ``ctxrouter demo``): a simulated fleet month.

Its events go to a SQLite file of its own, recreated on each run, never to the configured
store: a made-up month must not mix with a fleet's real events (nor wipe them).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ctxrouter.cli.output import guarded, print_json, print_store, progress_bar, stderr, stdout
from ctxrouter.cli.state import state

app = typer.Typer(no_args_is_help=True)


def _pct(value: float | None) -> str:
    return f"{value:.1f}%" if value is not None else "n/a"


def _ms(value: float | None) -> str:
    return f"{value / 1000:.2f}s" if value is not None else "n/a"


def print_summary(data: dict[str, Any]) -> None:
    out = stdout()
    kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(data["tasks_by_kind"].items()))
    out.print(
        f"[bold]Simulated fleet month[/] ({data['plan']}): {data['period']['from']} to "
        f"{data['period']['to']}, {data['tasks']:,} tasks ({kinds}); "
        f"{data['tasks_ok']:,} completed",
        highlight=False,
    )
    tiers = Table(title="By tier (every answered call)", title_justify="left")
    for col in ("tier", "calls", "success", "p50", "p95", "p99", "cost", "failed tries"):
        tiers.add_column(col, justify="left" if col == "tier" else "right")
    for name, t in data["by_tier"].items():
        lat = t["latency_ms"]
        tiers.add_row(
            name, f"{t['calls']:,}", _pct(100 * t["success_rate"] if t["success_rate"] else None),
            _ms(lat["p50"]), _ms(lat["p95"]), _ms(lat["p99"]), f"${t['cost_usd']:,.2f}",
            f"{t['failed_attempts']:,}",
        )  # fmt: skip
    out.print(tiers)
    patterns = Table(
        title="By pattern (savings from the tokens each run used)", title_justify="left"
    )
    cols = ("pattern", "runs", "success", "cost/run", "vs sonnet", "claimed",
            "vs opus", "wall p50", "wall p95")  # fmt: skip
    for col in cols:
        patterns.add_column(col, justify="left" if col == "pattern" else "right", no_wrap=True)
    for name, p in data["by_pattern"].items():
        claimed = p["claimed_savings_vs_all_sonnet_pct"]
        patterns.add_row(
            name, f"{p['runs']:,}", _pct(100 * p["success_rate"]), f"${p['cost_per_run_usd']:.4f}",
            _pct(p["savings_vs_all_sonnet_pct"]), f"{claimed:.0f}%" if claimed else "",
            _pct(p["savings_vs_all_opus_pct"]), f"{p['wall_s']['p50']:.1f}s",
            f"{p['wall_s']['p95']:.1f}s",
        )  # fmt: skip
    out.print(patterns)
    lines = [
        f"cost        ${data['cost_usd']:,.2f} for the period; the same calls all-sonnet "
        f"${data['all_sonnet_usd']:,.2f}, all-opus ${data['all_opus_usd']:,.2f}",
        f"savings     {_pct(data['savings_vs_all_sonnet_pct'])} vs all-sonnet (the strategy "
        f"claims {data['claimed_savings_vs_all_sonnet_pct']}%), "
        f"{_pct(data['savings_vs_all_opus_pct'])} vs all-opus",
        f"resilience  {data['escalations']:,} escalations, {data['fallbacks']:,} fallbacks, "
        f"{sum(t['failed_attempts'] for t in data['by_tier'].values()):,} failed attempts retried",
        f"events      {data['database']}  (try: ctxrouter events --db {data['database']})",
    ]
    for line in lines:
        out.print(line, highlight=False, markup=False)
    stderr().print(f"simulated in {data['wall_s']:.1f} s of wall time", style="dim")


def run_month(
    ctx: typer.Context,
    *,
    days: int | None,
    tasks_per_day: int | None,
    seed: int,
    plan_file: Path | None,
    db: Path | None,
    json_: bool,
) -> None:
    from ctxrouter.simulation.fleet import load_plan, simulate_month

    settings = state(ctx).settings
    plan = load_plan(plan_file)
    update: dict[str, Any] = {}
    if days is not None:
        update["days"] = days
    if tasks_per_day is not None:
        update["tasks_per_day"] = tasks_per_day
    plan = plan.model_copy(update=update)
    database = db or settings.data_dir / "fleet-month.db"
    database.parent.mkdir(parents=True, exist_ok=True)
    if settings.store_url is not None and not json_:  # a made-up month stays out of shared data
        print_store(
            f"{database}, a SQLite file of its own (the configured store, "
            f"{state(ctx).store_target().label}, is not touched)",
            verb="simulated events go to",
        )
    columns = (MofNCompleteColumn(), TextColumn("days"), TimeElapsedColumn())
    with progress_bar("simulating {task.description}", *columns) as progress:
        bar = progress.add_task(plan.name, total=plan.days)
        summary = asyncio.run(
            simulate_month(
                settings,
                plan,
                database=database,
                seed=seed,
                on_day=lambda done, _total: progress.update(bar, completed=done),
            )
        )
    data = summary.to_dict()
    data.update(_finish(ctx, database))
    if json_:
        print_json(data)
    else:
        print_summary(data)
        _print_findings(data)


def _finish(ctx: typer.Context, database: Path) -> dict[str, Any]:
    """After the month: the alert check and the dashboard file, over the month's events."""
    from ctxrouter.cli.dashboard import export_page
    from ctxrouter.dashboard.data import Window
    from ctxrouter.dashboard.findings import active_alerts

    app = state(ctx)
    with app.store(database) as store:
        alerts = active_alerts(store, app.settings)
        page, _ = export_page(store, window=Window(), app=app)
    html = database.with_suffix(".html")
    html.write_text(page, encoding="utf-8")
    return {"alerts": alerts, "dashboard": str(html)}


def _print_findings(data: dict[str, Any]) -> None:
    out = stdout()
    alerts = data["alerts"]
    out.print(
        f"alerts      {len(alerts)} firing at the end of the period"
        + (":" if alerts else " (ctxrouter alerts check exits 0)"),
        highlight=False,
        markup=False,
    )
    for alert in alerts:
        out.print(f"  [{alert['severity']}] {alert['title']}", highlight=False, markup=False)
    if alerts:
        out.print(
            f"            ctxrouter alerts check --db {data['database']}  (exits 1)",
            highlight=False,
            markup=False,
        )
    out.print(f"dashboard   {data['dashboard']}", highlight=False, markup=False)


@app.command("month")
@guarded
def month(
    ctx: typer.Context,
    days: Annotated[int | None, typer.Option(min=1, help="Days to simulate (plan: 30).")] = None,
    tasks_per_day: Annotated[
        int | None, typer.Option(min=1, help="Tasks a day (plan: 1,000).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same month.")] = 0,
    plan: Annotated[Path | None, typer.Option(help="A fleet plan YAML (default: shipped).")] = None,
    db: Annotated[
        Path | None,
        typer.Option(
            help="SQLite file to (re)create, never the configured store; default"
            " <data>/fleet-month.db."
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Simulate a month of the strategy's workload: every task a pipeline run, in virtual time."""
    run_month(
        ctx, days=days, tasks_per_day=tasks_per_day, seed=seed, plan_file=plan, db=db, json_=json_
    )
