"""``ctxrouter metrics``: calls, success, latency, cost and run rates, in total or per group."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ctxrouter.analytics.metrics import (
    GROUP_BYS,
    LATENCY_RESOLUTION,
    GroupBy,
    GroupMetrics,
    MetricsReport,
    compute_metrics,
)
from ctxrouter.cli.options import DbOpt, SinceOpt, UntilOpt, parse_window
from ctxrouter.cli.output import guarded, print_json, print_nothing, print_store, stdout
from ctxrouter.cli.output import usd as _usd
from ctxrouter.cli.state import state
from ctxrouter.errors import InputError, did_you_mean
from ctxrouter.telemetry.store import EventQuery, Store

_NONE = "(none)"  # the group of events without an agent, category or tier


def parse_by(value: str) -> GroupBy:
    text = value.strip().lower()
    if text in GROUP_BYS:
        return text
    guess = did_you_mean(value, GROUP_BYS)
    hint = f" (did you mean {guess!r}?)" if guess else ""
    raise InputError(
        f"--by: cannot group by {value!r}{hint}; expected one of {', '.join(GROUP_BYS)}"
    )


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _cost(group: GroupMetrics) -> Text:
    """The priced cost; "unpriced" when nothing was priced, "*" when some answers were not."""
    if group.unpriced and group.priced <= 0:
        return Text("unpriced", style="dim")
    text = Text(_usd(group.cost_usd))
    if group.unpriced:
        text.append("*", style="yellow")
    return text


def _rating(group: GroupMetrics) -> str:
    return "—" if group.rating_mean is None else f"{group.rating_mean:.1f} ({group.ratings:,})"


def _row(group: GroupMetrics, *, label: str | None = None) -> list[str | Text]:
    per_call = group.cost_per_call_usd
    return [
        Text(label or group.key or _NONE),
        f"{group.calls:,}",
        f"{group.runs:,}",
        _pct(group.success_rate),
        _ms(group.latency_p50_ms),
        _ms(group.latency_p95_ms),
        _ms(group.latency_p99_ms),
        _cost(group),
        "—" if per_call is None else _usd(per_call),
        _pct(group.escalation_rate),
        _pct(group.fallback_rate),
        _pct(group.correction_rate),
        _rating(group),
    ]


def _window(report: MetricsReport) -> str:
    def moment(ts: float | None, default: str) -> str:
        if ts is None:
            return default
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")

    if report.since is None and report.until is None:
        return "all recorded events"
    return f"{moment(report.since, 'the first event')} to {moment(report.until, 'now')} UTC"


SESSIONS_SHOWN = 25  # the costliest; a fleet has thousands of sessions


def _label(by: GroupBy | None, key: str) -> str:
    """A group's key as the table shows it: sessions by their id's first 8 characters."""
    if not key:
        return _NONE
    return key[:8] if by == "session" and len(key) > 12 else key


def print_report(report: MetricsReport) -> None:
    title = "Metrics" + (f" by {report.by}" if report.by else "") + f", {_window(report)}"
    if report.filters:
        title += " (" + ", ".join(f"{k} {v}" for k, v in report.filters.items()) + ")"
    notes: list[str] = []
    groups = [*report.groups, report.totals]
    if any(g.unpriced and g.priced > 0 for g in groups):
        unpriced = report.totals.unpriced
        notes.append(f"* plus {unpriced:,} answered call(s) without a price, not counted as $0")
    notes.append(
        f"latency in ms over answered calls, within {LATENCY_RESOLUTION:.0%}; rates of runs"
        " (counted where they started), success of answered calls"
    )
    shown = report.groups
    if report.by == "session":
        shown = shown[:SESSIONS_SHOWN]
        notes.insert(0, "sessions by the first 8 characters of their id, costliest first")
        if len(report.groups) > len(shown):
            more = len(report.groups) - len(shown)
            notes.insert(1, f"and {more:,} more session(s) not shown (--json lists them all)")
    table = Table(
        title=title,
        title_justify="left",
        caption=Text("\n".join(notes), style="dim"),
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    labels = [_label(report.by, group.key) for group in shown]
    longest = max((len(label) for label in labels), default=0)
    table.add_column(report.by or "", overflow="fold", min_width=min(longest, 12))
    for name in ("calls", "runs", "success", "p50", "p95", "p99", "cost", "cost/call"):
        table.add_column(name, justify="right", no_wrap=True)
    for name in ("escalated", "fallback", "corrected", "rating"):
        table.add_column(name, justify="right", no_wrap=True)
    for group, label in zip(shown, labels, strict=True):
        table.add_row(*_row(group, label=label))
    if report.groups:
        table.add_section()
    table.add_row(*_row(report.totals, label="total"), style="bold")
    stdout().print(table)


@guarded
def metrics(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Group by model, agent, category, tier, day or week (UTC), or session"
            " (costliest first).",
        ),
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="Only this agent category.")
    ] = None,
    agent: Annotated[str | None, typer.Option("--agent", "-a", help="Only this agent.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model id.")] = None,
    db: DbOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Fleet metrics: calls, success, latency percentiles, cost, escalation, fallback and
    correction rates and ratings, in total or per group."""
    group_by = parse_by(by) if by is not None else None
    start, end = parse_window(since, until)
    target = state(ctx).store_target(db)

    def read(store: Store) -> tuple[MetricsReport, int | None]:
        report = compute_metrics(
            store, by=group_by, since=start, until=end, category=category, agent=agent, model=model
        )
        recorded = store.count_events(EventQuery(limit=1)) if not report.totals.calls else None
        return report, recorded

    given = {"category": category, "agent": agent, "model": model}
    filters = {k: v for k, v in given.items() if v is not None}
    empty = MetricsReport(  # of a SQLite file not created yet: every total zero
        since=start, until=end, by=group_by, totals=GroupMetrics("total"), filters=filters
    )
    nothing: tuple[MetricsReport, int | None] = (empty, 0)
    report, recorded = target.read(read, empty=nothing)
    if json_:
        print_json({**report.to_dict(), "store": target.label})
    elif recorded is not None:
        print_nothing(
            "no events recorded yet" if recorded == 0 else "no events match", target.label
        )
    else:
        print_report(report)
        print_store(target.label)
