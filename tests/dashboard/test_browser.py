"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright): the
exported file and the served page load, every chart is drawn with data, nothing is fetched
from outside, no script runs that is not ours, and a screenshot is saved.

Skips when /usr/bin/chromium is missing, unless CTXROUTER_REQUIRE_SERVICES=1 (CI): then fails.
With CTXROUTER_UPDATE_SCREENSHOT=1 the served page's screenshot is copied to docs/dashboard.png.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ctxrouter.dashboard.app import create_app
from ctxrouter.dashboard.data import Window, build
from ctxrouter.dashboard.render import render_page
from ctxrouter.telemetry import SQLiteStore

from .conftest import HOSTILE_AGENT, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE = os.environ.get("CTXROUTER_REQUIRE_SERVICES") == "1"
# read at import: the suite's autouse fixture clears CTXROUTER_* variables for each test
UPDATE_SCREENSHOT = os.environ.get("CTXROUTER_UPDATE_SCREENSHOT") == "1"
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
CHARTS = ("chart-cost", "chart-latency", "chart-success", "chart-rates")

# Per chart: Plotly's traces, the points they hold, and the marks drawn in the SVG
# (bars are ``g.point`` paths; a heatmap is one ``image`` in ``g.hm``).
CHART_STATE = """() => Array.from(document.querySelectorAll(".chart")).map((el) => ({
  id: el.id,
  plotted: el.classList.contains("js-plotly-plot"),
  traces: (el.data || []).length,
  points: (el.data || []).reduce((n, t) => n + (t.z || t.y || []).length, 0),
  bars: el.querySelectorAll("g.point path").length,
  heatmaps: el.querySelectorAll("g.hm image").length,
}))"""


def _chromium_or_skip() -> None:
    reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "the playwright package is missing (pip install playwright)"
    else:
        if CHROMIUM.exists():
            return
    if REQUIRE:
        pytest.fail(reason + "; CTXROUTER_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # console errors, page errors, dialogs
    charts: list[dict[str, Any]] = field(default_factory=list)
    rendered_ms: float = 0.0


def _open(page: Any, url: str) -> Visit:
    visit = Visit()
    page.on("request", lambda r: visit.requests.append(r.url))
    page.on(
        "console",
        lambda m: (
            visit.problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: visit.problems.append(f"page error: {e}"))

    def on_dialog(dialog: Any) -> None:
        visit.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url)
    _rendered(page, visit)
    return visit


def _rendered(page: Any, visit: Visit) -> None:
    page.wait_for_selector("body[data-rendered=true]", timeout=60_000)
    visit.rendered_ms = float(page.evaluate("window.ctxrouterRenderedMs"))
    visit.charts = page.evaluate(CHART_STATE)


def _assert_charts_have_data(visit: Visit) -> None:
    assert [c["id"] for c in visit.charts] == list(CHARTS)
    for chart in visit.charts:
        assert chart["plotted"] and chart["traces"] > 0 and chart["points"] > 0, chart
        marks = chart["heatmaps"] if chart["id"] == "chart-success" else chart["bars"]
        assert marks > 0, chart
    assert visit.problems == []
    assert visit.rendered_ms > 0


def _screenshot(page: Any, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_exported_file(browser: Any, hostile_store: SQLiteStore, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(render_page(build(hostile_store, Window()), standalone=True), "utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    visit = _open(page, report.as_uri())
    _assert_charts_have_data(visit)
    assert visit.requests == [report.as_uri()]  # self-contained: nothing else was fetched
    # the hostile agent is shown as text on the heatmap's axis, not run
    ticks = page.eval_on_selector_all(
        "#chart-success .ytick text", "(ts) => ts.map((t) => t.textContent)"
    )
    assert HOSTILE_AGENT in ticks
    _screenshot(page, tmp_path / "exported.png")
    page.close()


def test_served_page(browser: Any, fleet_store: SQLiteStore, tmp_path: Path) -> None:
    with serve(create_app(fleet_store)) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        visit = _open(page, url + "/")
        _assert_charts_have_data(visit)
        assert visit.requests == [
            url + "/",
            url + "/static/plotly.min.js",
            url + "/static/dashboard.js",
        ]
        shot = tmp_path / "dashboard.png"
        _screenshot(page, shot)
        if UPDATE_SCREENSHOT:
            shutil.copyfile(shot, DOCS_SCREENSHOT)
        # choosing a category in the filter reloads the page for it (the page script submits)
        calls = page.inner_text('[data-kpi="calls"] b')
        with page.expect_navigation():
            page.select_option("select[name=category]", "Testing")
        assert page.url == url + "/?since=&category=Testing"
        _rendered(page, visit)
        _assert_charts_have_data(visit)
        assert int(page.inner_text('[data-kpi="calls"] b').replace(",", "")) < int(
            calls.replace(",", "")
        )
        page.close()
