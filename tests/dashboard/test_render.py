"""The page's data and HTML over a simulated fleet in a real SQLite file: escaping, a
self-contained export, filters, Plotly-valid figures, the alert and recommendation seams."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ctxrouter.cli import dashboard as dashboard_cli
from ctxrouter.cli.state import AppState
from ctxrouter.dashboard.data import Window, build, pick_bucket
from ctxrouter.dashboard.render import figures, render_page, script_json
from ctxrouter.telemetry import SQLiteStore
from ctxrouter.telemetry.store import EventQuery

from .conftest import HOSTILE_AGENT, HOSTILE_CATEGORY, HOSTILE_MODEL

DAY = 86_400.0


class Page(HTMLParser):
    """Every start tag with its (unescaped) attributes, and the text of each <script>."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self._attrs: dict[str, str | None] = {}
        self._buf: list[str] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in, self._attrs, self._buf = tag, dict(attrs), []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in == "script":
            self.scripts.append((self._attrs, "".join(self._buf)))
        elif tag == self._in == "style":
            self.styles.append("".join(self._buf))
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._buf.append(data)
        else:
            self.text.append(data)

    def figures(self) -> dict[str, dict[str, object]]:
        (text,) = [t for a, t in self.scripts if a.get("type") == "application/json"]
        decoded: dict[str, dict[str, object]] = json.loads(text)
        return decoded


def _count(store: SQLiteStore, where: str = "", params: tuple[object, ...] = ()) -> int:
    ((n,),) = store.query(f"SELECT COUNT(*) FROM events {where}", params)
    return int(n)


def test_hostile_names_are_escaped_everywhere(hostile_store: SQLiteStore) -> None:
    data = build(hostile_store, Window())
    alerts = [{"severity": "critical", "message": HOSTILE_AGENT, "agent": HOSTILE_AGENT}]
    recs = [{"title": HOSTILE_CATEGORY, "detail": {"agent": HOSTILE_AGENT}}]
    for standalone in (False, True):
        html = render_page(
            data, standalone=standalone, alerts=alerts, recommendations=recs, plotly="/**/"
        )
        for raw in (HOSTILE_AGENT, HOSTILE_CATEGORY, HOSTILE_MODEL, "<b>x</b>"):
            assert raw not in html
        page = Page(html)
        # no element or handler came out of the data
        assert {t for t, _ in page.tags} <= {
            "html", "head", "meta", "title", "style", "body", "header", "h1", "small", "p",
            "form", "label", "select", "option", "button", "main", "section", "div", "b",
            "span", "h2", "ul", "li", "strong", "dl", "dt", "dd", "footer", "script",
        }  # fmt: skip
        assert not [n for _, attrs in page.tags for n in attrs if n.startswith("on")]
        assert len(page.scripts) == 3
        text = "".join(page.text)
        assert text.count(HOSTILE_AGENT) == 3  # alert headline, alert field, recommendation field
        assert HOSTILE_CATEGORY in text  # the recommendation's title
        # labels handed to Plotly are entity-escaped, so Plotly shows them literally
        figs = page.figures()
        success = figs["chart-success"]["data"][0]  # type: ignore[index]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in success["y"]
        cost_names = [t["name"] for t in figs["chart-cost"]["data"]]  # type: ignore[attr-defined]
        assert "claude-sonnet-&lt;b&gt;x&lt;/b&gt;" in cost_names
        if not standalone:  # the filter offers the category, as an escaped option
            options = [a.get("value") for t, a in page.tags if t == "option"]
            assert HOSTILE_CATEGORY in options


def test_script_json_cannot_close_its_element() -> None:
    text = script_json({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_export_is_self_contained(fleet_store: SQLiteStore) -> None:
    html = render_page(build(fleet_store, Window()), standalone=True)
    page = Page(html)
    assert not [t for t, _ in page.tags if t in ("link", "img", "iframe", "object", "embed")]
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "data", "poster", "srcset"):
            assert attrs.get(name) is None, f"<{tag} {name}=...> loads something"
    for css in page.styles:
        assert "url(" not in css and "@import" not in css
    scripts = [t for a, t in page.scripts if a.get("type") != "application/json"]
    assert len(scripts) == 2 and len(scripts[0]) > 1_000_000  # plotly.min.js, inline
    assert scripts[0].lstrip().startswith("/**\n* plotly.js v")
    # the policy allows exactly these two scripts and no connection
    (policy,) = [a["content"] for t, a in page.tags if a.get("http-equiv")]
    assert policy is not None
    assert "default-src 'none'" in policy and "http" not in policy
    hashes = set(re.findall(r"'sha256-([^']+)'", policy))
    digests = {base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in scripts}
    assert hashes == digests


def test_category_filter(fleet_store: SQLiteStore) -> None:
    everything = build(fleet_store, Window())
    assert "Testing" in everything.categories
    data = build(fleet_store, Window(category="Testing"))
    testing = _count(fleet_store, "WHERE category = ?", ("Testing",))
    assert 0 < data.totals.calls == testing < everything.totals.calls
    ((cost,),) = fleet_store.query("SELECT SUM(cost_usd) FROM events WHERE category = 'Testing'")
    assert sum(map(sum, data.cost.by_model.values())) == pytest.approx(cost)
    agents = {
        r[0] for r in fleet_store.query("SELECT agent FROM events WHERE category = 'Testing'")
    }
    assert set(data.success.agents) == agents
    assert data.categories == everything.categories  # the filter still offers every category
    html = render_page(data, standalone=True, plotly="/**/")
    assert "Category: Testing" in "".join(Page(html).text)


def test_since_filter(fleet_store: SQLiteStore) -> None:
    ((first,),) = fleet_store.query("SELECT MIN(ts) FROM events")
    since = (math.floor(first / DAY) + 1) * DAY  # midnight before the second day
    data = build(fleet_store, Window(since=since, since_text="2026-10-28"))
    expected = _count(fleet_store, "WHERE ts >= ?", (since,))
    assert 0 < data.totals.calls == expected < _count(fleet_store)
    assert data.first_ts is not None and data.first_ts >= since
    assert data.cost.starts[0] >= since - data.cost.bucket_s
    page = Page(render_page(data, standalone=True, plotly="/**/"))
    assert "Window: 2026-10-28" in "".join(page.text)


def test_cost_buckets_match_the_events(fleet_store: SQLiteStore) -> None:
    data = build(fleet_store, Window())
    bucket = data.cost.bucket_s
    assert bucket == pick_bucket(data.last_ts - data.first_ts)  # type: ignore[operator]
    expected: dict[tuple[str, float], float] = defaultdict(float)
    for e in fleet_store.events(EventQuery()):
        if e.cost_usd is not None:
            expected[e.model, math.floor(e.ts / bucket) * bucket] += e.cost_usd
    got = {
        (model, start): cost
        for model, series in data.cost.by_model.items()
        for start, cost in zip(data.cost.starts, series, strict=True)
        if cost
    }
    assert got.keys() == {k for k, v in expected.items() if v}
    for key, cost in got.items():
        assert cost == pytest.approx(expected[key])
    assert sum(got.values()) == pytest.approx(data.totals.cost_usd)


def test_pick_bucket() -> None:
    assert pick_bucket(0) == 300
    assert pick_bucket(2 * DAY) == 3600
    assert pick_bucket(30 * DAY) == 6 * 3600
    assert pick_bucket(3650 * DAY) == 7 * DAY


def test_figures_are_valid_plotly(hostile_store: SQLiteStore) -> None:
    go = pytest.importorskip("plotly.graph_objects")
    figs = figures(build(hostile_store, Window()))
    assert list(figs) == ["chart-cost", "chart-latency", "chart-success", "chart-rates"]
    for fig in figs.values():
        assert fig["data"]
        go.Figure(fig)  # raises ValueError on any property Plotly does not know


def test_empty_window(fleet_store: SQLiteStore, tmp_path: Path) -> None:
    data = build(fleet_store, Window(category="no such category"))
    assert data.empty and data.first_ts is None
    assert all(not fig["data"] for fig in figures(data).values())
    with SQLiteStore(tmp_path / "empty.db") as empty:
        html = render_page(build(empty, Window()), standalone=True, plotly="/**/")
    assert "0 attempts" in html


def test_seams_render_only_when_given(fleet_store: SQLiteStore) -> None:
    data = build(fleet_store, Window())
    plain = render_page(data, plotly="/**/")
    assert 'id="alerts"' not in plain and 'id="recommendations"' not in plain
    empty = Page(render_page(data, alerts=[], recommendations=[]))
    assert "No active alerts." in empty.text and "No recommendations." in empty.text
    html = render_page(
        data,
        alerts=[{"rule": "cost-spike", "severity": "warning", "message": "cost 3x baseline"}],
        recommendations=[{"title": "Move code-reviewer to haiku", "savings_usd": 12.5}],
    )
    text = " ".join(Page(html).text)
    assert "warning" in text and "cost 3x baseline" in text and "cost-spike" in text
    assert "Move code-reviewer to haiku" in text and "12.5" in text


def _cli() -> typer.Typer:
    root = typer.Typer(pretty_exceptions_enable=False)

    @root.callback()
    def _root(ctx: typer.Context) -> None:
        ctx.obj = AppState()

    root.command("report")(dashboard_cli.report)
    root.command("dashboard")(dashboard_cli.dashboard)
    return root


def test_report_command_writes_the_page(fleet_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.html"
    args = ["report", "--html", str(out), "--db", str(fleet_db)]
    result = CliRunner().invoke(_cli(), [*args, "--since", "2026-10-28", "-c", "Testing"])
    assert result.exit_code == 0, result.output
    size = out.stat().st_size
    assert result.stdout.strip() == f"wrote {out} ({size / 1e6:.1f} MB, {size:,} bytes)"
    text = "".join(Page(out.read_text(encoding="utf-8")).text)
    assert "Window: 2026-10-28" in text and "Category: Testing" in text
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temp file left


def test_report_command_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    out = tmp_path / "r.html"
    result = CliRunner().invoke(_cli(), ["report", "--html", str(out), "--db", str(missing)])
    assert result.exit_code == 2 and f"no events recorded yet (store: {missing})" in result.stderr
    assert not missing.exists() and not out.exists()
    bad = ["report", "--html", str(out), "--db", str(missing), "--since", "yesterday"]
    result = CliRunner().invoke(_cli(), bad)
    assert result.exit_code == 2 and "--since: cannot read 'yesterday'" in result.stderr


def test_loopback_hosts() -> None:
    assert all(map(dashboard_cli._is_loopback, ("127.0.0.1", "localhost", "::1", "127.0.0.2")))
    assert not any(map(dashboard_cli._is_loopback, ("0.0.0.0", "192.0.2.1", "example.org")))
