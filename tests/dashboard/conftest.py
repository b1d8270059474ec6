"""Dashboard fixtures: a simulated fleet (two days, run once per session) in a real SQLite file,
a copy of it with hostile names added, and a real uvicorn server on 127.0.0.1, port 0."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette

from ctxrouter.config import Settings
from ctxrouter.simulation.fleet import load_plan, simulate_month
from ctxrouter.telemetry import Event, Outcome, SQLiteStore
from ctxrouter.telemetry.event import new_id

HOSTILE_AGENT = "<script>alert(1)</script>"
HOSTILE_CATEGORY = '<img src=x onerror="alert(2)">'
HOSTILE_MODEL = "claude-sonnet-<b>x</b>"
SIM_DAYS = 2
TASKS_PER_DAY = 300


@pytest.fixture(scope="session")
def fleet_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two simulated working days of the fleet (pipelines through router and executor)."""
    root = tmp_path_factory.mktemp("fleet")
    config = root / "config.toml"
    config.write_text("", encoding="utf-8")
    database = root / "fleet.db"
    with pytest.MonkeyPatch.context() as mp:  # no developer config or environment leaks in
        for key in list(os.environ):
            if key.startswith("CTXROUTER_") and key != "CTXROUTER_REQUIRE_SERVICES":
                mp.delenv(key)
        mp.setenv("HOME", str(root))
        settings = Settings.load(config, data_dir=root / "data")
        plan = load_plan().model_copy(update={"days": SIM_DAYS, "tasks_per_day": TASKS_PER_DAY})
        asyncio.run(simulate_month(settings, plan, database=database))
    return database


@pytest.fixture(scope="session")
def hostile_db(fleet_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fleet plus runs whose agent, category and model are markup, some with fallbacks."""
    database = tmp_path_factory.mktemp("hostile") / "hostile.db"
    shutil.copyfile(fleet_db, database)
    with SQLiteStore(fleet_db) as store:
        ((last,),) = store.query("SELECT MAX(ts) FROM events")
    events = []
    for i in range(6):
        run = new_id()
        events.append(
            Event(
                event_id=new_id(),
                ts=float(last) - 60.0 * i,
                run_id=run,
                agent=HOSTILE_AGENT,
                model=HOSTILE_MODEL if i % 2 else "claude-haiku-5-5",
                tier="sonnet" if i % 2 else "haiku",
                outcome=Outcome.SUCCESS if i % 3 else Outcome.REJECTED,
                category=HOSTILE_CATEGORY,
                input_tokens=1000,
                output_tokens=200,
                cost_usd=0.01,
                latency_ms=800.0 + i,
                fallback_from="claude-haiku-5-5" if i % 2 else None,
            )
        )
    with SQLiteStore(database) as store:
        store.write_events(events)
    return database


@pytest.fixture
def fleet_store(fleet_db: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(fleet_db) as store:
        yield store


@pytest.fixture
def hostile_store(hostile_db: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(hostile_db) as store:
        yield store


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1, port 0, in a thread; yield its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard-test-server", daemon=True)
    thread.start()
    try:
        while not server.started:  # waiting for startup, not asserting on time
            if not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        (sock,) = [s for srv in server.servers for s in srv.sockets]
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join()
