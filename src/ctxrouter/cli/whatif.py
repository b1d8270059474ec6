"""``ctxrouter whatif``: what the fleet's policy would have cost on the recorded history."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ctxrouter.analytics.whatif import AgentWhatIf, Recorded, WhatIfReport
from ctxrouter.cli.options import AgentsOpt, DbOpt, SinceOpt, UntilOpt, parse_window
from ctxrouter.cli.output import guarded, print_json, print_nothing, print_store, stdout
from ctxrouter.cli.output import usd as _usd
from ctxrouter.cli.state import state


def _saved(row: AgentWhatIf) -> Text:
    if row.untouched is not None or (row.actual_usd == 0 and row.whatif_usd == 0):
        return Text("—", style="dim")
    pct = row.saved_pct
    text = f"{_usd(row.saved_usd)}" + (f" ({pct:.0f}%)" if pct is not None else "")
    return Text(text, style="green" if row.saved_usd > 0 else "red" if row.saved_usd < 0 else "")


def _models(row: AgentWhatIf) -> str:
    """The model it ran on most, and how many others."""
    ranked = sorted(row.models.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ranked:
        return ""
    return ranked[0][0] + (f" +{len(ranked) - 1}" if len(ranked) > 1 else "")


_SHORT = {  # why a row is left as it was, in a table cell
    "the main conversation": "= (main)",
    "not in the catalog": "= (unknown)",
    "inherits the caller's model": "= (inherits)",
}


def print_report(report: WhatIfReport) -> None:
    total = report.total
    title = f"What the policy would have cost: {total.responses:,} responses"
    if report.provider:
        title += f" from {report.provider}"
    tiers = ", ".join(f"{t} = {m}" for t, m in report.tier_models.items())
    notes = [
        f"policy tiers: {tiers}",
        "moved: responses repriced on the policy's model; = (...): left as they were, because"
        " main conversation / agent not in the catalog / inherits the caller's model",
        "assumptions:",
    ]
    notes += [f"  - {a}" for a in report.assumptions]
    if total.unpriced:
        notes.append(f"{total.unpriced:,} response(s) could not be priced: left out of both sums")
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("agent", overflow="fold")
    table.add_column("responses", justify="right")
    table.add_column("ran on (most)", no_wrap=True)
    table.add_column("policy", no_wrap=True)
    table.add_column("moved", justify="right")
    for name in ("actual", "what-if", "saved"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in report.agents:
        reason = row.untouched
        policy = Text(_SHORT.get(reason, reason), style="dim") if reason else Text(row.tier or "")
        table.add_row(
            Text(row.agent or "(none)"),
            f"{row.responses:,}",
            escape(_models(row)),
            policy,
            f"{row.moved:,}",
            _usd(row.actual_usd),
            _usd(row.whatif_usd),
            _saved(row),
        )
    if report.agents:
        table.add_section()
    table.add_row(
        "total",
        f"{total.responses:,}",
        "",
        "",
        f"{total.moved:,}",
        _usd(total.actual_usd),
        _usd(total.whatif_usd),
        _saved(total),
        style="bold",
    )
    console = stdout()
    console.print(table)
    console.print(Text("\n".join(notes), style="dim"))


@guarded
def whatif(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    provider: Annotated[
        str,
        typer.Option(
            "--provider",
            help="Whose events: claude-code (imported history), gateway, ... or 'all'.",
        ),
    ] = "claude-code",
    agents: AgentsOpt = None,
    db: DbOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Estimate what the fleet's policy would have saved on the recorded history: each
    subagent's responses repriced at the tier its catalog policy prefers (assumptions shown)."""
    from ctxrouter.analytics.whatif import collect, what_if
    from ctxrouter.models.bulk_pricing import Pricer

    start, end = parse_window(since, until)
    app = state(ctx)
    app.use_agents(agents)
    chosen = None if provider == "all" else provider
    target = app.store_target(db)
    nothing: list[Recorded] = []
    recorded = target.read(
        lambda store: collect(store, provider=chosen, since=start, until=end), empty=nothing
    )
    registry = app.registry()
    pricer = Pricer(registry)
    policy = {agent.name: _tier(agent.policy.preference) for agent in app.catalog().agents()}
    report = what_if(
        recorded,
        policy=policy,
        tier_models={tier.value: model for tier, model in registry.tier_map.items()},
        price=lambda model, day, tokens: pricer.cost(model, day, tokens),
        provider=chosen,
    )
    report.since, report.until = start, end
    if json_:
        print_json({**report.to_dict(), "store": target.label})
    elif not recorded:
        print_nothing(
            f"no {chosen} events recorded" if chosen else "no events recorded", target.label
        )
    else:
        print_report(report)
        print_store(target.label)


def _tier(preference: object) -> str | None:
    value = getattr(preference, "value", None)
    return value if isinstance(value, str) else None
