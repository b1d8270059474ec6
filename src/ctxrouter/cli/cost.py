"""``ctxrouter cost``: what routing saves, projected over a mix of tasks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from ctxrouter.analytics.projection import (
    CallProfile,
    Claims,
    Mix,
    Projection,
    claimed_basis,
    load_mix,
    project,
    shipped_mix_path,
    today_basis,
)
from ctxrouter.cli.models import OnOpt, parse_day
from ctxrouter.cli.output import guarded, print_json, stdout
from ctxrouter.cli.state import state
from ctxrouter.errors import InputError
from ctxrouter.policy.tier import TIERS

app = typer.Typer(no_args_is_help=True)

DEFAULT_INPUT_TOKENS = 20_000
DEFAULT_OUTPUT_TOKENS = 2_000


def usd(value: float, decimals: int = 2) -> str:
    return f"${value:,.{decimals}f}"


def decimals_for(values: Iterable[float]) -> int:
    """Cents when every amount is at least $1; four decimals when one is a fraction of a dollar."""
    return 2 if all(v == 0 or abs(v) >= 1 for v in values) else 4


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _rounded(data: Any) -> Any:
    """Drop float noise (7.800000000000001) from JSON output."""
    if isinstance(data, float):
        return round(data, 12)
    if isinstance(data, dict):
        return {k: _rounded(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_rounded(v) for v in data]
    return data


def _per_task(p: Projection) -> list[float]:
    per_kind = [v for k in p.kinds for v in (k.hybrid, k.all_sonnet, k.all_opus)]
    return [*per_kind, p.hybrid_per_task, p.all_sonnet_per_task, p.all_opus_per_task]


def _kind_table(p: Projection) -> Table:
    title = escape(f"Basis {p.basis!r}: calls per tier and USD per task, by kind of task")
    table = Table(title=title, title_justify="left")
    table.add_column("kind", no_wrap=True)
    table.add_column("share", justify="right")
    for tier in TIERS:
        table.add_column(tier.value, justify="right")
    for column in ("hybrid", "all-sonnet", "all-opus"):
        table.add_column(column, justify="right")
    d = decimals_for(_per_task(p))
    for k in p.kinds:
        calls = [str(k.calls[t]) for t in TIERS]
        row = [usd(k.hybrid, d), usd(k.all_sonnet, d), usd(k.all_opus, d)]
        table.add_row(escape(k.name), f"{k.share:.0%}", *calls, *row)
    totals = [p.hybrid_per_task, p.all_sonnet_per_task, p.all_opus_per_task]
    table.add_row("weighted", "100%", "", "", "", *(usd(v, d) for v in totals), style="bold")
    return table


def _notes(p: Projection) -> list[str]:
    """What the basis assumes, starting with what one call costs on each tier."""
    d = decimals_for(p.per_call.values())
    per_call = ", ".join(f"{t.value} {usd(p.per_call[t], d)} ({p.models[t]})" for t in TIERS)
    return [f"per call: {per_call}", *p.notes]


def _claimed_cells(claims: Claims) -> dict[str, str]:
    """The claims, keyed by the summary row they belong beside."""
    money = {
        "hybrid / task": claims.hybrid_per_task_usd,
        "all-sonnet / task": claims.all_sonnet_per_task_usd,
        "all-opus / task": claims.all_opus_per_task_usd,
    }
    percent = {
        "savings vs all-sonnet": claims.savings_vs_all_sonnet_pct,
        "savings vs all-opus": claims.savings_vs_all_opus_pct,
    }
    cells = {label: usd(v) for label, v in money.items() if v is not None}
    cells.update({label: f"{v:g}%" for label, v in percent.items() if v is not None})
    return cells


def _summary_table(projections: list[Projection], claims: Claims | None) -> Table:
    table = Table(title="Hybrid routing vs one tier for everything", title_justify="left")
    table.add_column("")
    for p in projections:
        table.add_column(escape(f"{p.basis} basis"), justify="right")

    def per_task(get: Callable[[Projection], float]) -> list[str]:
        return [usd(get(p), decimals_for(_per_task(p))) for p in projections]

    rows: list[tuple[str, list[str]]] = [
        ("hybrid / task", per_task(lambda p: p.hybrid_per_task)),
        ("all-sonnet / task", per_task(lambda p: p.all_sonnet_per_task)),
        ("all-opus / task", per_task(lambda p: p.all_opus_per_task)),
        ("hybrid / day", [usd(p.hybrid_per_day) for p in projections]),
        ("all-sonnet / day", [usd(p.all_sonnet_per_day) for p in projections]),
        ("all-opus / day", [usd(p.all_opus_per_day) for p in projections]),
        ("savings vs all-sonnet", [pct(p.savings_vs_all_sonnet_pct) for p in projections]),
        ("savings vs all-opus", [pct(p.savings_vs_all_opus_pct) for p in projections]),
    ]
    claimed: dict[str, str] | None = None
    if claims is not None:
        claimed = _claimed_cells(claims)
        table.add_column("claimed", justify="right")
        table.caption = escape(f"claimed: {claims.source}")
        table.caption_justify = "left"
    for label, cells in rows:
        extra = [] if claimed is None else [claimed.get(label, "—")]
        table.add_row(label, *cells, *extra)
    return table


def _mix_record(mix: Mix, source: str) -> dict[str, Any]:
    return {
        "name": mix.name,
        "description": mix.description,
        "tasks_per_day": mix.tasks_per_day,
        "file": source,
        "kinds": [k.model_dump(mode="json") for k in mix.kinds],
    }


@app.command("project")
@guarded
def project_cmd(
    ctx: typer.Context,
    mix_file: Annotated[
        Path | None,
        typer.Option("--mix", help="A mix file (YAML). Default: the strategy's example."),
    ] = None,
    input_tokens: Annotated[
        int, typer.Option("--input-tokens", min=0, help="Input tokens per agent call.")
    ] = DEFAULT_INPUT_TOKENS,
    output_tokens: Annotated[
        int, typer.Option("--output-tokens", min=0, help="Output tokens per agent call.")
    ] = DEFAULT_OUTPUT_TOKENS,
    cache_read_share: Annotated[
        float,
        typer.Option(
            "--cache-read-share", min=0.0, max=1.0, help="Share of input read from cache."
        ),
    ] = 0.0,
    cache_write_share: Annotated[
        float,
        typer.Option(
            "--cache-write-share", min=0.0, max=1.0, help="Share of input written to cache (5m)."
        ),
    ] = 0.0,
    on: OnOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Cost a task mix per task and per day: hybrid routing vs all-sonnet vs all-opus.

    Two price bases: the one the mix's source used (for the shipped strategy mix: its era's
    prices, input tokens only) and today's tier mapping with the tokens per call given here.
    """
    day = parse_day(on)
    mix = load_mix(mix_file if mix_file is not None else shipped_mix_path())
    source = "shipped" if mix_file is None else str(mix_file)
    registry = state(ctx).registry()
    try:
        profile = CallProfile(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_share=cache_read_share,
            cache_write_share=cache_write_share,
        )
    except ValidationError as exc:
        msgs = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise InputError(f"token profile: {msgs}") from None
    bases = [b for b in (claimed_basis(mix, registry, day=day),) if b is not None]
    bases.append(today_basis(registry, profile, day=day))
    projections = [project(mix, basis) for basis in bases]
    if json_:
        print_json(
            _rounded(
                {
                    "mix": _mix_record(mix, source),
                    "claims": mix.claims.model_dump(mode="json") if mix.claims else None,
                    "projections": [p.model_dump(mode="json") for p in projections],
                }
            )
        )
        return
    console = stdout()
    console.print(
        f"Mix {mix.name!r} ({source}): {mix.description}; {mix.tasks_per_day:,} tasks a day",
        markup=False,
        highlight=False,
    )
    for p in projections:
        console.print()
        console.print(_kind_table(p))
        for note in _notes(p):
            console.print(f"  {note}", markup=False, highlight=False)
    console.print()
    console.print(_summary_table(projections, mix.claims))
