"""The Starlette app under a real uvicorn on 127.0.0.1 (port 0), with httpx as the client:
the page, its scripts, Prometheus metrics (parsed by prometheus_client's own parser), health."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from ctxrouter.dashboard.app import LATENCY_BUCKETS_S, create_app
from ctxrouter.dashboard.data import Window
from ctxrouter.telemetry import SQLiteStore
from ctxrouter.telemetry.store import Store

from .conftest import HOSTILE_AGENT, HOSTILE_CATEGORY, serve


@pytest.fixture
def client(hostile_store: SQLiteStore) -> Iterator[httpx.Client]:
    with serve(create_app(hostile_store)) as url, httpx.Client(base_url=url) as http:
        yield http


def _families(text: str) -> dict[str, tuple[str, list[Sample]]]:
    return {f.name: (f.type, f.samples) for f in text_string_to_metric_families(text)}


def test_page(client: httpx.Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    html = response.text
    for chart in ("chart-cost", "chart-latency", "chart-success", "chart-rates"):
        assert f'id="{chart}"' in html
    assert '<script src="static/plotly.min.js"></script>' in html
    assert HOSTILE_AGENT not in html and HOSTILE_CATEGORY not in html


def test_page_filters(client: httpx.Client, hostile_store: SQLiteStore) -> None:
    response = client.get("/", params={"since": "2026-10-28", "category": "Testing"})
    assert response.status_code == 200
    assert '<option value="Testing" selected>' in response.text
    assert '<option value="2026-10-28" selected>2026-10-28</option>' in response.text
    ((calls,),) = hostile_store.query(
        "SELECT COUNT(*) FROM events WHERE category = 'Testing' AND ts >= ?",
        (datetime(2026, 10, 28, tzinfo=UTC).timestamp(),),
    )
    assert f"{calls:,} attempts" in response.text


def test_bad_since_is_a_400_with_an_escaped_message(client: httpx.Client) -> None:
    response = client.get("/", params={"since": "<script>x</script>"})
    assert response.status_code == 400
    assert "cannot read" in response.text and "<script>x" not in response.text
    assert "&lt;script&gt;x" in response.text


def test_static_scripts(client: httpx.Client) -> None:
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and plotly.headers["content-type"].startswith("text/java")
    assert plotly.text.startswith("/**\n* plotly.js v") and len(plotly.content) > 1_000_000
    page_js = client.get("/static/dashboard.js")
    assert "Plotly.newPlot" in page_js.text


def test_healthz(client: httpx.Client, hostile_store: SQLiteStore) -> None:
    response = client.get("/healthz")
    ((events,),) = hostile_store.query("SELECT COUNT(*) FROM events")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "events": events}


def test_healthz_reports_an_unreadable_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "closed.db")
    store.close()
    with serve(create_app(store)) as url:
        response = httpx.get(url + "/healthz")
    assert response.status_code == 503 and response.json()["status"] == "error"


def test_metrics(client: httpx.Client, hostile_store: SQLiteStore) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = _families(response.text)
    expected = {
        "ctxrouter_calls": "counter",
        "ctxrouter_cost_usd": "counter",
        "ctxrouter_tokens": "counter",
        "ctxrouter_escalations": "counter",
        "ctxrouter_fallbacks": "counter",
        "ctxrouter_unpriced_calls": "counter",
        "ctxrouter_latency_seconds": "histogram",
        "ctxrouter_last_event_timestamp_seconds": "gauge",
    }
    assert {name: kind for name, (kind, _) in families.items()} == expected
    for name, (_, samples) in families.items():
        assert samples, name
        for sample in samples:
            assert {"model", "agent", "category"} <= sample.labels.keys(), name

    def total(family: str, suffix: str = "_total", **labels: str) -> float:
        return sum(
            s.value
            for s in families[family][1]
            if s.name == family + suffix and labels.items() <= s.labels.items()
        )

    ((calls, cost, tin, esc, fb, answered),) = hostile_store.query(
        "SELECT COUNT(*), SUM(cost_usd), SUM(input_tokens),"
        " SUM(CASE WHEN escalated_from IS NOT NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN fallback_from IS NOT NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN outcome <> 'error' AND latency_ms IS NOT NULL THEN 1 ELSE 0 END)"
        " FROM events"
    )
    assert total("ctxrouter_calls") == calls
    assert total("ctxrouter_cost_usd") == pytest.approx(cost)
    assert total("ctxrouter_tokens", kind="input") == tin
    assert total("ctxrouter_escalations") == esc > 0
    assert total("ctxrouter_fallbacks") == fb == 3  # the hostile runs' fallbacks
    assert total("ctxrouter_latency_seconds", "_count") == answered
    # the hostile labels survive the exposition format exactly
    assert total("ctxrouter_calls", agent=HOSTILE_AGENT, category=HOSTILE_CATEGORY) == 6
    outcomes = {s.labels["outcome"] for s in families["ctxrouter_calls"][1]}
    assert outcomes == {"success", "rejected", "error"}


def test_latency_histogram_is_cumulative(client: httpx.Client, hostile_store: Store) -> None:
    families = _families(client.get("/metrics").text)
    series: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    counts: dict[tuple[str, str, str], float] = {}
    for s in families["ctxrouter_latency_seconds"][1]:
        key = (s.labels["model"], s.labels["agent"], s.labels["category"])
        if s.name.endswith("_bucket"):
            series.setdefault(key, []).append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_count"):
            counts[key] = s.value
    assert series
    model, agent, category = next(iter(series))
    rows = hostile_store.query(
        "SELECT latency_ms FROM events WHERE model = ? AND agent = ? AND category = ?"
        " AND outcome <> 'error' AND latency_ms IS NOT NULL",
        (model, agent, category),
    )
    for bound, value in series[model, agent, category][:-1]:
        assert value == sum(1 for (ms,) in rows if ms <= bound * 1000)
    for key, buckets in series.items():
        bounds = [b for b, _ in buckets]
        assert bounds == [*LATENCY_BUCKETS_S, float("inf")]
        values = [v for _, v in buckets]
        assert values == sorted(values) and values[-1] == counts[key]


def test_openmetrics_by_accept(client: httpx.Client) -> None:
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def test_seams_are_called_with_the_window(hostile_store: SQLiteStore) -> None:
    seen: list[Window] = []

    def alerts(store: Store, window: Window) -> Sequence[Mapping[str, Any]]:
        seen.append(window)
        return [{"severity": "warning", "message": "p95 latency above 10 s"}]

    def recommendations(store: Store, window: Window) -> Sequence[Mapping[str, Any]]:
        return [{"title": "Try haiku for docs-architect"}]

    app = create_app(hostile_store, alerts=alerts, recommendations=recommendations)
    with serve(app) as url:
        html = httpx.get(url + "/", params={"category": "Testing"}).text
    assert seen and seen[0].category == "Testing"
    assert "p95 latency above 10 s" in html and "Try haiku for docs-architect" in html


def test_scrapes_within_max_age_share_one_aggregate(tmp_path: Path) -> None:
    from ctxrouter.dashboard.app import StoreCollector
    from ctxrouter.telemetry import Event, Outcome

    def calls(collector: StoreCollector) -> float:
        family = next(m for m in collector.collect() if m.name == "ctxrouter_calls")
        return sum(s.value for s in family.samples if s.name.endswith("_total"))

    now = [0.0]
    with SQLiteStore(tmp_path / "m.db") as store:

        def write(i: int) -> None:
            store.write_events(
                [Event(f"e{i}", 1_800_000_000.0 + i, f"r{i}", "a", "claude-haiku-5-5", "haiku",
                       Outcome.SUCCESS, latency_ms=10.0)]
            )  # fmt: skip

        write(1)
        collector = StoreCollector(store, max_age_s=10.0, clock=lambda: now[0])
        assert calls(collector) == 1
        write(2)
        now[0] = 9.0
        assert calls(collector) == 1  # within 10 s: the same aggregate, no new scan
        now[0] = 10.0
        assert calls(collector) == 2
