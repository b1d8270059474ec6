"""``ctxrouter dashboard`` (serve the charts and Prometheus metrics) and ``ctxrouter report``
(export the same page as one self-contained HTML file)."""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ctxrouter.cli.options import DbOpt, SinceOpt
from ctxrouter.cli.output import fail, guarded, print_store, stderr, stdout
from ctxrouter.cli.state import AppState, StoreTarget, state
from ctxrouter.timewindow import parse_since

if TYPE_CHECKING:
    from ctxrouter.dashboard.data import Window
    from ctxrouter.telemetry.store import Store


def _target(ctx: typer.Context, db: str | None) -> StoreTarget:
    target = state(ctx).store_target(db)
    if not target.exists():
        raise fail(
            f"no events recorded yet (store: {target.label}): record some runs first "
            "(ctxrouter demo, ctxrouter run) or give a store with --db"
        )
    return target


def _require(*modules: str) -> None:
    """Fail with the install line when the dashboard's optional packages are missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise fail(f"this command needs {', '.join(missing)}: pip install 'ctxrouter[dashboard]'")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _size(n: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}, {n:,} bytes"
    return f"{n:,} bytes"


@guarded
def dashboard(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (no authentication: keep local).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 8788,
    db: DbOpt = None,
) -> None:
    """Serve the dashboard: charts at http://HOST:PORT/, Prometheus metrics at /metrics."""
    _require("starlette", "uvicorn", "prometheus_client", "plotly")
    import uvicorn

    from ctxrouter.dashboard.app import create_app

    target = _target(ctx, db)
    console = stderr()
    if not _is_loopback(host):
        console.print(
            f"[yellow]warning:[/] the dashboard has no authentication; anyone who can reach "
            f"{host}:{port} sees this fleet's costs and agents",
            highlight=False,
        )
    from ctxrouter.dashboard.findings import active_alerts, top_recommendations

    settings, catalog = state(ctx).settings, state(ctx).catalog()
    with target.open() as store:
        app = create_app(
            store,
            alerts=lambda s, _w: active_alerts(s, settings),
            recommendations=lambda s, w: top_recommendations(s, catalog, window=w),
        )
        shown = f"[{host}]" if ":" in host else host
        console.print(
            f"dashboard on http://{shown}:{port}/ (metrics: /metrics) over {target.label}; "
            "Ctrl-C stops",
            highlight=False,
            markup=False,
        )
        uvicorn.run(app, host=host, port=port, log_level="warning", ws="none", lifespan="off")


@guarded
def report(
    ctx: typer.Context,
    html: Annotated[
        Path, typer.Option("--html", help="Write the dashboard to this self-contained HTML file.")
    ],
    since: SinceOpt = None,
    category: Annotated[
        str | None, typer.Option("--category", "-c", help="Only this category of task.")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Export the dashboard as one HTML file that needs no server and fetches nothing."""
    _require("plotly")
    from ctxrouter.dashboard.data import Window

    window = Window(
        since=None if since is None else parse_since(since, now=time.time()),
        category=category,
        since_text=since,
    )
    target = _target(ctx, db)
    with target.open() as store:
        text, empty = export_page(store, window=window, app=state(ctx))
    page = text.encode("utf-8")
    html.parent.mkdir(parents=True, exist_ok=True)
    partial = html.with_name(f".{html.name}.{os.getpid()}.tmp")
    partial.write_bytes(page)
    partial.replace(html)  # never leave a half-written page behind
    if empty:
        stderr().print("[yellow]warning:[/] no events match; the charts are empty")
    stdout().print(f"wrote {html} ({_size(len(page))})", highlight=False, markup=False)
    print_store(target.label)


def export_page(store: Store, *, window: Window, app: AppState) -> tuple[str, bool]:
    """The self-contained dashboard over ``store``, with alerts and recommendations, and
    whether it is empty (no events in the window)."""
    from ctxrouter.dashboard.data import build
    from ctxrouter.dashboard.findings import active_alerts, top_recommendations
    from ctxrouter.dashboard.render import render_page

    data = build(store, window)
    alerts = active_alerts(store, app.settings)
    recommendations = top_recommendations(store, app.catalog(), window=window)
    page = render_page(data, standalone=True, alerts=alerts, recommendations=recommendations)
    return page, data.empty
