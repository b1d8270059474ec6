"""``ctxrouter profile``: agents on the wrong tier, with evidence and frontmatter diffs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ctxrouter.analytics.apply import Edit, apply_edit, plan_edit
from ctxrouter.analytics.profile import ProfileSettings, Recommendation, collect, recommend
from ctxrouter.cli.options import AgentsOpt, DbOpt
from ctxrouter.cli.output import guarded, print_json, print_store, stderr, stdout
from ctxrouter.cli.state import state
from ctxrouter.errors import InputError
from ctxrouter.timewindow import parse_since


@guarded
def profile(
    ctx: typer.Context,
    since: Annotated[str, typer.Option(help="Window start: 30d, 24h or an ISO date.")] = "30d",
    db: DbOpt = None,
    tolerance: Annotated[float, typer.Option(min=0, max=1)] = 0.02,
    min_answered: Annotated[int, typer.Option(min=1)] = 30,
    apply: Annotated[bool, typer.Option("--apply", help="Write the recommended tiers.")] = False,
    dir_: Annotated[
        Path | None, typer.Option("--dir", help="Agent folder for overrides of built-ins.")
    ] = None,
    agents: AgentsOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Which agents gain from the stronger tier, which are over- or under-powered; diffs."""
    app = state(ctx)
    app.use_agents(agents)
    settings = app.settings
    target = app.store_target(db)
    if not target.exists():
        raise InputError(f"no events recorded yet (store: {target.label})")
    with target.open() as store:
        newest = store.query("SELECT MAX(ts) FROM events")[0][0]
        until = (float(newest) + 1.0) if newest is not None else time.time()
        start = parse_since(since, now=until)
        profiles = collect(store, since=start, until=until, catalog=app.catalog())
    recs = recommend(profiles, ProfileSettings(tolerance=tolerance, min_answered=min_answered))
    override_dir = dir_ or (settings.agent_dirs[0] if settings.agent_dirs else None)
    edits: list[tuple[Recommendation, Edit | None, str | None]] = []
    for rec in recs:
        try:
            edit = plan_edit(app.catalog()[rec.agent], rec.proposed, override_dir=override_dir)
        except InputError as exc:
            edits.append((rec, None, str(exc)))
            continue
        edits.append((rec, edit, None))
    if apply:
        for _, planned, _ in edits:
            if planned is not None:
                apply_edit(planned)
    if json_:
        print_json(
            {
                "store": target.label,
                "window": {"since": start, "until": until},
                "agents": [p.to_dict() for p in profiles],
                "recommendations": [
                    {
                        **r.to_dict(),
                        "diff": e.diff() if e else None,
                        "note": n,
                        "applied": bool(apply and e),
                        "target": str(e.target) if e else None,
                    }
                    for r, e, n in edits
                ],
            }
        )
        return
    _print(profiles, edits, apply)
    print_store(target.label)


def _print(profiles: list[Any], edits: list[Any], applied: bool) -> None:
    out = stdout()
    table = Table(title="Success by agent and tier (answered calls)", title_justify="left")
    for col in ("agent", "default", "haiku", "sonnet", "opus", "sonnet - haiku (95% CI)"):
        table.add_column(col, justify="left" if col in {"agent", "default"} else "right")
    ranked = sorted(profiles, key=lambda p: -(p.benefit[0] if p.benefit else -9))
    for p in ranked:
        cells = []
        for tier in ("haiku", "sonnet", "opus"):
            s = p.tiers.get(tier)
            cells.append(f"{s.rate:.1%} of {s.answered:,}" if s and s.rate is not None else "")
        b = p.benefit
        benefit = f"{b[0]:+.1%} ({b[1]:+.1%}..{b[2]:+.1%})" if b else ""
        table.add_row(p.agent, p.default_tier or "", *cells, benefit)
    out.print(table)
    out.print(
        "Escalated calls are the harder tasks (the cheap answer was rejected first): "
        "differences lean towards the stronger tier.",
        style="dim",
    )
    if not edits:
        out.print("No recommendations: every agent with enough traffic is on a fitting tier.")
        return
    for rec, edit, note in edits:
        out.print(
            f"\n[bold]{rec.agent}[/]: {rec.kind}, {rec.current} -> {rec.proposed}: {rec.reason}",
            highlight=False,
        )
        if edit is not None:
            out.print(edit.diff(), markup=False, highlight=False)
            if applied:
                stderr().print(f"wrote {edit.target}")
        else:
            out.print(f"  (not editable: {note})", markup=False)
