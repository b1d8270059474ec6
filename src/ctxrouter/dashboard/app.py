"""The dashboard as a Starlette app: the page, its scripts, Prometheus metrics and a health check.

Routes:

- ``GET /`` — the page; query parameters ``since`` (``24h``, ``7d``, a date or a UTC time),
  ``until`` and ``category``;
- ``GET /static/plotly.min.js``, ``GET /static/dashboard.js`` — the page's scripts;
- ``GET /metrics`` — Prometheus exposition (or OpenMetrics, by ``Accept``) from
  :class:`StoreCollector`, which reads the store's aggregates on every scrape;
- ``GET /healthz`` — ``{"status": "ok", "events": N}``, or 503 when the store cannot be read.

Serve it with uvicorn (``ctxrouter dashboard``), bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from html import escape
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ctxrouter.dashboard.data import Window, build
from ctxrouter.dashboard.render import (
    PAGE_JS,
    content_security_policy,
    plotly_js,
    render_page,
)
from ctxrouter.errors import CtxRouterError
from ctxrouter.telemetry.store import Store

# Latency histogram bounds, seconds (a model call takes from a fraction of a second to minutes).
LATENCY_BUCKETS_S = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
LABELS = ("model", "agent", "category")

Entries = Sequence[Mapping[str, Any]]
# SEAM: where the alerts and the recommendations come from; called per page view.
EntriesSource = Callable[[Store, Window], Entries]


class StoreCollector(Collector):
    """Prometheus families computed from the store at scrape time, in one ``GROUP BY`` over
    ``events`` (labels: model, agent, category; a missing agent or category is ""). Counters
    count every recorded attempt, so they only grow while the store is append-only; the latency
    histogram covers answered attempts, its buckets counted in SQL."""

    def __init__(
        self,
        store: Store,
        buckets_s: Sequence[float] = LATENCY_BUCKETS_S,
        *,
        max_age_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.buckets_s = tuple(sorted(buckets_s))
        # The aggregate scans every event (~3 s at 1M in SQLite): scrapes closer together than
        # max_age_s share one result, so a fast scrape interval cannot pile up full scans.
        self.max_age_s = max_age_s
        self.clock = clock
        self._rows: list[tuple[Any, ...]] = []
        self._read_at: float | None = None

    def _aggregate(self) -> list[tuple[Any, ...]]:
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.max_age_s:
            self._rows = self.store.query(self._sql())
            self._read_at = now
        return self._rows

    def _sql(self) -> str:
        answered = "outcome <> 'error' AND latency_ms IS NOT NULL"
        buckets = "".join(
            f", SUM(CASE WHEN {answered} AND latency_ms <= {b * 1000:.1f} THEN 1 ELSE 0 END)"
            for b in self.buckets_s
        )
        return (
            "SELECT model, COALESCE(agent, ''), COALESCE(category, ''), outcome, COUNT(*),"
            " SUM(COALESCE(cost_usd, 0)), SUM(input_tokens), SUM(output_tokens),"
            " SUM(cache_creation_5m_tokens + cache_creation_1h_tokens), SUM(cache_read_tokens),"
            " SUM(CASE WHEN escalated_from IS NOT NULL THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN fallback_from IS NOT NULL THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN cost_usd IS NULL AND outcome <> 'error' THEN 1 ELSE 0 END),"
            f" MAX(ts), SUM(CASE WHEN {answered} THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN {answered} THEN latency_ms ELSE 0 END){buckets}"
            " FROM events GROUP BY model, COALESCE(agent, ''), COALESCE(category, ''), outcome"
        )

    def collect(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "ctxrouter_calls", "Attempts recorded, by outcome.", labels=[*LABELS, "outcome"]
        )
        cost = CounterMetricFamily("ctxrouter_cost_usd", "Priced cost in USD.", labels=LABELS)
        tokens = CounterMetricFamily(
            "ctxrouter_tokens",
            "Tokens by kind: input, output, cache_creation, cache_read.",
            labels=[*LABELS, "kind"],
        )
        escalations = CounterMetricFamily(
            "ctxrouter_escalations", "Attempts escalated from a weaker tier.", labels=LABELS
        )
        fallbacks = CounterMetricFamily(
            "ctxrouter_fallbacks", "Attempts that fell back from another model.", labels=LABELS
        )
        unpriced = CounterMetricFamily(
            "ctxrouter_unpriced_calls", "Answered attempts without a price.", labels=LABELS
        )
        latency = HistogramMetricFamily(
            "ctxrouter_latency_seconds", "Latency of answered attempts, seconds.", labels=LABELS
        )
        newest = GaugeMetricFamily(
            "ctxrouter_last_event_timestamp_seconds",
            "When the newest recorded attempt started (epoch seconds).",
            labels=LABELS,
        )
        # rows are per outcome; everything but calls is summed over the outcomes
        summed: dict[tuple[str, str, str], list[float]] = {}
        for model, agent, category, outcome, n, *values in self._aggregate():
            key = (str(model), str(agent), str(category))
            calls.add_metric([*key, str(outcome)], float(n))
            acc = summed.setdefault(key, [0.0] * len(values))
            for i, value in enumerate(values):
                if i == _TS:
                    acc[i] = max(acc[i], float(value or 0))
                else:
                    acc[i] += float(value or 0)
        for key, acc in summed.items():
            labels = list(key)
            usd, tin, tout, tcw, tcr, esc, fb, up, ts, answered, total_ms, *cumulative = acc
            cost.add_metric(labels, usd)
            for kind, value in (
                ("input", tin),
                ("output", tout),
                ("cache_creation", tcw),
                ("cache_read", tcr),
            ):
                tokens.add_metric([*labels, kind], value)
            escalations.add_metric(labels, esc)
            fallbacks.add_metric(labels, fb)
            unpriced.add_metric(labels, up)
            newest.add_metric(labels, ts)
            if answered:
                buckets = [
                    (repr(float(b)), c) for b, c in zip(self.buckets_s, cumulative, strict=True)
                ]
                latency.add_metric(
                    labels, buckets=[*buckets, ("+Inf", answered)], sum_value=total_ms / 1000
                )
        yield from (calls, cost, tokens, escalations, fallbacks, unpriced, latency, newest)


_TS = 8  # where MAX(ts) sits among the summed values of StoreCollector's query


def registry_for(store: Store) -> CollectorRegistry:
    """A registry holding only :class:`StoreCollector` (no process metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))
    return registry


def window_from_query(params: Mapping[str, str], *, now: float) -> Window:
    """The window named by ``since`` / ``until`` / ``category`` (empty means unset)."""
    from ctxrouter.timewindow import parse_since

    since_text = (params.get("since") or "").strip() or None
    until_text = (params.get("until") or "").strip() or None
    category = params.get("category") or None
    return Window(
        since=None if since_text is None else parse_since(since_text, now=now),
        until=None if until_text is None else parse_since(until_text, now=now, flag="until"),
        category=category,
        since_text=since_text,
    )


_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def metrics_route(store: Store, registry: CollectorRegistry | None = None) -> Route:
    """``GET /metrics``: the store's aggregates in the Prometheus (or OpenMetrics) format."""
    scraped = registry or registry_for(store)

    def metrics(request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(scraped), headers={**_HEADERS, "Content-Type": content_type})

    return Route("/metrics", metrics, methods=["GET"])


def create_app(
    store: Store,
    *,
    alerts: EntriesSource | None = None,
    recommendations: EntriesSource | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The dashboard app over ``store`` (which the caller opens and closes)."""
    plotly = plotly_js().encode("utf-8")
    page_js = PAGE_JS.encode("utf-8")
    registry = registry_for(store)
    page_headers = {
        **_HEADERS,
        "Content-Security-Policy": content_security_policy("'self'")
        + "; connect-src 'none'; frame-ancestors 'none'",
        "Cache-Control": "no-store",
    }

    def page(request: Request) -> Response:
        try:
            window = window_from_query(request.query_params, now=clock())
        except CtxRouterError as exc:
            body = f"<!doctype html><title>Bad request</title><p>{escape(str(exc))}</p>"
            return HTMLResponse(body, status_code=400, headers=_HEADERS)
        data = build(store, window, now=clock())
        html = render_page(
            data,
            alerts=None if alerts is None else alerts(store, window),
            recommendations=None if recommendations is None else recommendations(store, window),
        )
        return HTMLResponse(html, headers=page_headers)

    def static(body: bytes) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            headers = {**_HEADERS, "Cache-Control": "public, max-age=3600"}
            return Response(body, media_type="text/javascript", headers=headers)

        return endpoint

    def healthz(request: Request) -> Response:
        try:
            ((events,),) = store.query("SELECT COUNT(*) FROM events")
        except Exception as exc:  # the store is unreadable: say so, do not crash the server
            return JSONResponse({"status": "error", "error": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok", "events": int(events)}, headers=_HEADERS)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/static/plotly.min.js", static(plotly)),
            Route("/static/dashboard.js", static(page_js)),
            metrics_route(store, registry),
            Route("/healthz", healthz),
        ]
    )
