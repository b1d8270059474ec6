"""Dashboard figures: the exported page's weight, the server-side time to build and render it,
and how long a headless Chromium takes from navigation start to every chart drawn
(``performance.now()`` when the page script's ``Plotly.newPlot`` promises have all resolved;
``of_which_drawing_ms``: from the page script's start, i.e. after Plotly was loaded and parsed),
for the exported file and for the served page (fresh browser context each load: no cache).

Events: a simulated fleet (default 3 days x 1,000 tasks) in a temporary SQLite file.
Needs Debian's chromium at /usr/bin/chromium for the load times (else reported as skipped).
Prints JSON.

    .venv/bin/python bench/dashboard.py [--days 3] [--tasks-per-day 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from ctxrouter.config import Settings
from ctxrouter.dashboard.app import create_app
from ctxrouter.dashboard.data import Window, build
from ctxrouter.dashboard.render import figures, plotly_js, plotly_version, render_page, script_json
from ctxrouter.simulation.fleet import load_plan, simulate_month
from ctxrouter.telemetry import SQLiteStore

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.01)
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        yield f"http://{host}:{port}/"
    finally:
        server.should_exit = True
        thread.join()


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def load_times(urls: dict[str, str], repeat: int) -> dict[str, Any]:
    """Navigation start to charts drawn, ms, per URL; and DOMContentLoaded for reference."""
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        out["chromium"] = browser.version
        for name, url in urls.items():
            rendered, dom, drawing = [], [], []
            for _ in range(repeat):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.goto(url)
                page.wait_for_selector("body[data-rendered=true]", timeout=120_000)
                rendered.append(float(page.evaluate("window.ctxrouterRenderedMs")))
                drawing.append(
                    float(page.evaluate("window.ctxrouterRenderedMs - window.ctxrouterScriptMs"))
                )
                dom.append(
                    float(
                        page.evaluate(
                            "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
                        )
                    )
                )
                context.close()
            out[name] = {
                "charts_rendered_ms": _summary(rendered),
                "of_which_drawing_ms": _summary(drawing),
                "dom_ready_ms": _summary(dom),
            }
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--tasks-per-day", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ctxrouter-bench-") as tmp:
        root = Path(tmp)
        (root / "config.toml").write_text("", encoding="utf-8")
        settings = Settings.load(root / "config.toml", data_dir=root / "data")
        plan = load_plan().model_copy(
            update={"days": args.days, "tasks_per_day": args.tasks_per_day}
        )
        database = root / "fleet.db"
        asyncio.run(simulate_month(settings, plan, database=database))
        with SQLiteStore(database) as store:
            started = time.perf_counter()
            data = build(store, Window())
            build_ms = (time.perf_counter() - started) * 1000
            js = plotly_js()
            started = time.perf_counter()
            page = render_page(data, standalone=True, plotly=js)
            render_ms = (time.perf_counter() - started) * 1000
            report = root / "report.html"
            report.write_text(page, encoding="utf-8")
            result: dict[str, Any] = {
                "events": data.totals.calls,
                "days": args.days,
                "tasks_per_day": args.tasks_per_day,
                "plotly_js": plotly_version(js),
                "page_bytes": len(page.encode("utf-8")),
                "plotly_js_bytes": len(js.encode("utf-8")),
                "figures_json_bytes": len(script_json(figures(data)).encode("utf-8")),
                "build_ms": round(build_ms, 1),
                "render_ms": round(render_ms, 1),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            }
            if CHROMIUM.exists():
                with serve(create_app(store)) as url:
                    urls = {"exported_file": report.as_uri(), "served_page": url}
                    result["browser"] = load_times(urls, args.repeat)
            else:
                result["browser"] = f"skipped: {CHROMIUM} is missing (apt-get install chromium)"
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
