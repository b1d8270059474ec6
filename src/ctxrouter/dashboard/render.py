"""The dashboard page: HTML around four Plotly charts, built from :class:`DashboardData`.

Escaping: every text that reaches the HTML goes through :func:`html.escape`; the chart figures
travel as JSON inside ``<script type="application/json">`` with ``<``, ``>`` and ``&`` written as
``\\u003c`` ... so no value can close the element; and labels given to Plotly (which reads a
subset of HTML in its strings) are HTML-escaped too, so Plotly shows them literally.

Two forms of one page: **served** (``standalone=False``) loads Plotly and the page script from
the app's ``/static/`` routes and has a filter form; **standalone** (``ctxrouter report --html``)
inlines both scripts, fetches nothing, and states its filters instead. Both carry a
Content-Security-Policy that allows no script but theirs.

Seams: ``alerts`` and ``recommendations`` (lists of plain dicts) are rendered when given.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from importlib.resources import files
from typing import Any

from ctxrouter.analytics.metrics import GroupMetrics
from ctxrouter.dashboard.data import NO_AGENT, DashboardData

Figure = dict[str, Any]
CHARTS = (
    ("chart-cost", "Cost over time by model"),
    ("chart-latency", "Latency percentiles by model"),
    ("chart-success", "Success rate by agent × tier"),
    ("chart-rates", "Escalation and fallback rates by agent"),
)
SINCE_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "All time"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
)
_TIER_COLORS = {"haiku": "#2a9d8f", "sonnet": "#3a6ea5", "opus": "#7b4fa0"}
_PALETTE = ("#e76f51", "#f4a261", "#8d99ae", "#264653", "#b5838d", "#6d597a")
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def plotly_js() -> str:
    """plotly.min.js as shipped in the ``plotly`` package."""
    js = (files("plotly") / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    if "</script" in js.lower():  # would end an inline <script> early
        raise RuntimeError("plotly.min.js contains '</script'; it cannot be inlined")
    return js


def plotly_version(js: str) -> str:
    match = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", js[:500])
    return match[1] if match else "unknown"


# -- formatting --------------------------------------------------------------------------------


def _utc(ts: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if ts is None else datetime.fromtimestamp(ts, UTC).strftime(fmt)


def _usd(v: float | None) -> str:
    if v is None:
        return "—"
    return f"${v:,.2f}" if v == 0 or abs(v) >= 1 else f"${v:.4f}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def _seconds(ms: float | None) -> str:
    return "—" if ms is None else f"{ms / 1000:.2f} s"


def label(text: str) -> str:
    """A label for Plotly, which reads tags and entities in its strings: shown literally."""
    return escape(text, quote=False)


def _agent(key: str | None) -> str:
    return key or NO_AGENT  # compute_metrics keys a missing agent ""


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<``, ``>``, ``&`` escaped as \\uXXXX."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, code)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# -- figures -----------------------------------------------------------------------------------


def _model_color(model: str, i: int) -> str:
    for tier, color in _TIER_COLORS.items():
        if tier in model:
            return color
    return _PALETTE[i % len(_PALETTE)]


def _layout(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "margin": {"l": 60, "r": 20, "t": 10, "b": 50},
        "font": {"family": _FONT, "size": 12},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "y": -0.2, "traceorder": "normal"},
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    return layout


def _rows_height(rows: int) -> int:
    return max(320, 26 * rows + 110)


def cost_figure(data: DashboardData) -> Figure:
    s = data.cost
    half_ms = s.bucket_s * 500
    x = [_utc(t + s.bucket_s / 2, "%Y-%m-%d %H:%M:%S") for t in s.starts]
    spans = [f"{_utc(t)} – {_utc(t + s.bucket_s, '%H:%M')} UTC" for t in s.starts]
    traces = [
        {
            "type": "bar",
            "name": label(model),
            "x": x,
            "y": [round(v, 6) for v in values],
            "width": [half_ms * 2 * 0.9] * len(x),
            "customdata": spans,
            "marker": {"color": _model_color(model, i)},
            "hovertemplate": "%{customdata}<br>$%{y:.4f}<extra>%{fullData.name}</extra>",
        }
        for i, (model, values) in enumerate(s.by_model.items())
    ]
    layout = _layout(
        barmode="stack",
        bargap=0.05,
        margin={"l": 60, "r": 20, "t": 10, "b": 80},
        legend={"orientation": "h", "y": -0.32, "traceorder": "normal"},
        yaxis={"title": {"text": "USD"}, "tickprefix": "$", "rangemode": "tozero"},
        xaxis={"type": "date", "title": {"text": f"UTC, {_bucket_text(s.bucket_s)} buckets"}},
    )
    return {"data": traces, "layout": layout}


def _bucket_text(seconds: int) -> str:
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400}-day"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}-hour"
    return f"{seconds // 60}-minute"


def latency_figure(data: DashboardData) -> Figure:
    models = [g for g in data.models if g.latency_p50_ms is not None]
    x = [label(g.key) for g in models]
    shades = (("p50", "#9cc3e6"), ("p95", "#3a6ea5"), ("p99", "#1d3557"))
    traces = []
    for name, color in shades:
        values = [_ms_to_s(getattr(g, f"latency_{name}_ms")) for g in models]
        traces.append(
            {
                "type": "bar",
                "name": name,
                "x": x,
                "y": values,
                "marker": {"color": color},
                "hovertemplate": "%{x}<br>" + name + " %{y:.2f} s<extra></extra>",
            }
        )
    layout = _layout(barmode="group", yaxis={"title": {"text": "seconds"}, "rangemode": "tozero"})
    return {"data": traces if models else [], "layout": layout}


def _ms_to_s(ms: float | None) -> float | None:
    return None if ms is None else round(ms / 1000, 4)


def success_figure(data: DashboardData) -> Figure:
    m = data.success
    rates = [r for row in m.rate for r in row if r is not None]
    zmin = min(0.5, int(min(rates) * 10) / 10) if rates else 0.0
    trace = {
        "type": "heatmap",
        "x": [label(t) for t in m.tiers],
        "y": [label(a) for a in m.agents],
        "z": m.rate,
        "customdata": m.answered,
        "zmin": zmin,
        "zmax": 1,
        "colorscale": [[0, "#d62828"], [0.5, "#f6bd60"], [1, "#2a9d8f"]],
        "texttemplate": "%{z:.0%}",
        "hoverongaps": False,
        "colorbar": {"tickformat": ".0%", "thickness": 12},
        "hovertemplate": "%{y} on %{x}<br>success %{z:.1%} of %{customdata} answered"
        "<extra></extra>",
    }
    layout = _layout(
        height=_rows_height(len(m.agents)),
        margin={"l": 170, "r": 20, "t": 30, "b": 10},
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"side": "top"},
    )
    return {"data": [trace] if m.agents else [], "layout": layout}


def rates_figure(data: DashboardData) -> Figure:
    agents = [g for g in data.agents if g.runs]
    y = [label(_agent(g.key)) for g in agents]
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "y": y,
            "x": [getattr(g, f"{name}_rate") for g in agents],
            "customdata": [getattr(g, f"{attr}_runs") for g in agents],
            "marker": {"color": color},
            "hovertemplate": "%{y}<br>" + name + " %{x:.1%} (%{customdata} runs)<extra></extra>",
        }
        for name, attr, color in (
            ("escalation", "escalated", "#e76f51"),
            ("fallback", "fallback", "#8d99ae"),
        )
    ]
    layout = _layout(
        barmode="group",
        height=_rows_height(len(agents)),
        margin={"l": 170, "r": 20, "t": 10, "b": 40},
        xaxis={"tickformat": ".0%", "rangemode": "tozero", "title": {"text": "share of runs"}},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return {"data": traces if agents else [], "layout": layout}


def figures(data: DashboardData) -> dict[str, Figure]:
    """The page's Plotly figures (``{"data": [...], "layout": {...}}``) by container id."""
    build = (cost_figure, latency_figure, success_figure, rates_figure)
    return {chart_id: make(data) for (chart_id, _), make in zip(CHARTS, build, strict=True)}


# -- HTML --------------------------------------------------------------------------------------

PAGE_JS = """\
(function () {
  "use strict";
  window.ctxrouterScriptMs = performance.now();  // Plotly is loaded: charts start here
  var figures = JSON.parse(document.getElementById("ctxrouter-figures").textContent);
  var config = {displaylogo: false, responsive: true};
  var drawn = Object.keys(figures).map(function (id) {
    var box = document.getElementById(id), fig = figures[id];
    if (!box) { return Promise.resolve(); }
    if (!fig.data.length) {
      box.classList.add("empty");
      box.textContent = "No events in this window.";
      return Promise.resolve();
    }
    return Plotly.newPlot(box, fig.data, fig.layout, config);
  });
  Promise.all(drawn).then(function () {
    window.ctxrouterRenderedMs = performance.now();
    document.body.setAttribute("data-rendered", "true");
  });
  document.querySelectorAll("form.filters select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
"""

CSS = """\
:root { --fg: #1d2433; --muted: #5b6475; --line: #e3e6ec; --card: #fff; --bg: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center;
  justify-content: space-between; padding: 14px 24px; background: var(--card);
  border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; } h1 small { color: var(--muted); font-weight: normal; }
h2 { font-size: 14px; margin: 0 0 8px; }
main { padding: 16px 24px 32px; max-width: 1500px; margin: 0 auto; }
.filters { display: flex; gap: 12px; align-items: center; color: var(--muted); }
.filters select, .filters button { font: inherit; padding: 4px 8px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
  margin-bottom: 16px; }
.kpi, .panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
.kpi { padding: 10px 14px; } .kpi b { display: block; font-size: 20px; }
.kpi span { color: var(--muted); font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
.panel { padding: 12px 14px; margin-bottom: 16px; }
.grid { margin-bottom: 16px; } .grid .panel { margin-bottom: 0; }
.chart { min-height: 320px; } .chart.empty { display: flex; align-items: center;
  justify-content: center; color: var(--muted); }
.items { list-style: none; margin: 0; padding: 0; }
.items li { padding: 8px 0; border-top: 1px solid var(--line); }
.items li:first-child { border-top: 0; }
.items dl { display: flex; flex-wrap: wrap; gap: 2px 14px; margin: 4px 0 0; color: var(--muted);
  font-size: 12px; } .items dl div { display: flex; gap: 4px; }
.items dt { font-weight: 600; } .items dd { margin: 0; }
.sev { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px;
  background: #e3e6ec; margin-right: 6px; }
.sev-critical, .sev-error { background: #f8d7da; } .sev-warning { background: #fff3cd; }
.none, .notes, footer { color: var(--muted); }
footer { padding: 0 24px 24px; font-size: 12px; text-align: center; }
"""


def csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(script_src: str) -> str:
    """The page's policy: its own scripts only, no connections, no plugins, no framing."""
    return (
        f"default-src 'none'; script-src {script_src}; style-src 'unsafe-inline'; "
        "img-src data:; font-src data:; base-uri 'none'; form-action 'self'"
    )


def _kpis(t: GroupMetrics) -> str:
    cards = (
        ("calls", f"{t.calls:,}"),
        ("runs", f"{t.runs:,}"),
        ("cost", _usd(t.cost_usd)),
        ("per answered call", _usd(t.cost_per_call_usd)),
        ("success rate", _pct(t.success_rate)),
        ("escalation rate", _pct(t.escalation_rate)),
        ("fallback rate", _pct(t.fallback_rate)),
        ("p95 latency", _seconds(t.latency_p95_ms)),
    )
    return "".join(
        f'<div class="kpi" data-kpi="{escape(name)}"><b>{escape(value)}</b>'
        f"<span>{escape(name)}</span></div>"
        for name, value in cards
    )


_HEADLINE = ("title", "message", "summary", "recommendation", "action", "name", "rule")
_SEVERITY = ("severity", "level")


def _item(entry: Mapping[str, Any]) -> str:
    """One alert or recommendation: its headline, severity, and every other field."""
    head_key = next((k for k in _HEADLINE if entry.get(k) not in (None, "")), None)
    sev_key = next((k for k in _SEVERITY if entry.get(k) not in (None, "")), None)
    parts = ["<li>"]
    if sev_key is not None:
        sev = str(entry[sev_key])
        cls = re.sub(r"[^a-z0-9-]", "", sev.lower())
        parts.append(f'<span class="sev sev-{cls}">{escape(sev)}</span>')
    if head_key is not None:
        parts.append(f"<strong>{escape(str(entry[head_key]))}</strong>")
    rest = [(k, v) for k, v in entry.items() if k not in (head_key, sev_key) and v is not None]
    if rest:
        parts.append("<dl>")
        for key, value in rest:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            parts.append(f"<div><dt>{escape(str(key))}</dt><dd>{escape(text)}</dd></div>")
        parts.append("</dl>")
    parts.append("</li>")
    return "".join(parts)


def _items_panel(
    section_id: str, title: str, entries: Sequence[Mapping[str, Any]] | None, none: str
) -> str:
    if entries is None:  # seam not wired: nothing to say
        return ""
    body = (
        '<ul class="items">' + "".join(_item(e) for e in entries) + "</ul>"
        if entries
        else f'<p class="none">{escape(none)}</p>'
    )
    return f'<section class="panel" id="{section_id}"><h2>{escape(title)}</h2>{body}</section>'


def _filters(data: DashboardData, standalone: bool) -> str:
    w = data.window
    if standalone:
        since = w.since_text or ("all events" if w.since is None else _utc(w.since))
        until = "" if w.until is None else f" until {_utc(w.until)} UTC"
        return (
            f'<p class="filters">Window: {escape(since)}{escape(until)} · '
            f"Category: {escape(w.category or 'all')}</p>"
        )
    choices = list(SINCE_CHOICES)
    current = w.since_text or ""
    if current not in {v for v, _ in choices}:
        choices.append((current, current))
    since_opts = "".join(
        f'<option value="{escape(v)}"{" selected" if v == current else ""}>{escape(t)}</option>'
        for v, t in choices
    )
    cats = [("", "All categories")] + [(c, c) for c in data.categories]
    if w.category and w.category not in data.categories:
        cats.append((w.category, w.category))
    cat_opts = "".join(
        f'<option value="{escape(v)}"{" selected" if v == (w.category or "") else ""}>'
        f"{escape(t)}</option>"
        for v, t in cats
    )
    return (
        '<form class="filters" method="get">'
        f'<label>Window <select name="since">{since_opts}</select></label>'
        f'<label>Category <select name="category">{cat_opts}</select></label>'
        '<button type="submit">Apply</button></form>'
    )


def render_page(
    data: DashboardData,
    *,
    standalone: bool = False,
    alerts: Sequence[Mapping[str, Any]] | None = None,
    recommendations: Sequence[Mapping[str, Any]] | None = None,
    plotly: str | None = None,
    static_prefix: str = "static",
) -> str:
    """The page as one HTML string.

    ``standalone``: inline ``plotly`` (plotly.min.js; read from the package when ``None``) and
    the page script, so the file needs nothing else; otherwise load them from
    ``{static_prefix}/plotly.min.js`` and ``{static_prefix}/dashboard.js`` (relative by default,
    so the app also works mounted under a path prefix).
    ``alerts`` / ``recommendations``: plain dicts shown in their panels (headline from
    ``title``/``name``/``rule``/..., badge from ``severity``/``level``, other fields listed);
    ``None`` leaves the panel out.
    """
    figs = figures(data)
    if standalone:
        js = plotly if plotly is not None else plotly_js()
        scripts = f"<script>{js}</script><script>{PAGE_JS}</script>"
        policy = content_security_policy(f"{csp_hash(js)} {csp_hash(PAGE_JS)}")
        head_policy = f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">'
    else:
        scripts = (
            f'<script src="{escape(static_prefix)}/plotly.min.js"></script>'
            f'<script src="{escape(static_prefix)}/dashboard.js"></script>'
        )
        head_policy = ""  # the app sends the header
    panels = "".join(
        f'<section class="panel"><h2>{escape(title)}</h2>'
        f'<div class="chart" id="{chart_id}"></div></section>'
        for chart_id, title in CHARTS
    )
    t = data.totals
    subtitle = f"{t.calls:,} attempts · {_utc(data.first_ts)} – {_utc(data.last_ts)} UTC"
    notes = "".join(f'<p class="notes">{escape(n)}</p>' for n in data.notes)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"{head_policy}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>ctxrouter dashboard</title><style>{CSS}</style></head><body>"
        f"<header><h1>ctxrouter <small>{escape(subtitle)}</small></h1>"
        f"{_filters(data, standalone)}</header><main>"
        f'<section class="kpis">{_kpis(t)}</section>'
        # SEAM: active alerts (ctxrouter.alerts), a list of plain dicts
        + _items_panel("alerts", "Active alerts", alerts, "No active alerts.")
        + f'<div class="grid">{panels}</div>{notes}'
        # SEAM: top recommendations (profiling), a list of plain dicts
        + _items_panel(
            "recommendations", "Top recommendations", recommendations, "No recommendations."
        )
        + f"</main><footer>Generated {escape(_utc(data.generated_at))} UTC by ctxrouter · "
        "charts: Plotly</footer>"
        f'<script type="application/json" id="ctxrouter-figures">{script_json(figs)}</script>'
        f"{scripts}</body></html>"
    )
