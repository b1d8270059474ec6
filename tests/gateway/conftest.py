"""A gateway on loopback (uvicorn in a thread) in front of the fake upstream."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import pytest
import uvicorn
from starlette.applications import Starlette

from ctxrouter.config import Settings
from ctxrouter.gateway import build_gateway
from ctxrouter.telemetry.event import Event
from ctxrouter.testing.fake_anthropic import FakeAnthropic

# tries without waiting, so the tests do not sleep through backoff
QUICK_RETRY = {"base_delay_s": 0.0, "max_delay_s": 0.0}


@dataclass
class Setup:
    fake: FakeAnthropic
    url: str
    events: list[Event]
    clients: list[anthropic.Anthropic] = field(default_factory=list)

    def client(self, **kwargs: Any) -> anthropic.Anthropic:
        """An SDK client on the gateway (no retries: a test sees each answer); closed after."""
        client = anthropic.Anthropic(base_url=self.url, api_key="sk-test", max_retries=0, **kwargs)
        self.clients.append(client)
        return client


def serve_in_thread(app: Starlette) -> tuple[uvicorn.Server, threading.Thread, int]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # waiting for readiness, not asserting on time
        if not thread.is_alive():
            raise RuntimeError("the gateway server did not start")
        time.sleep(0.01)
    return server, thread, server.servers[0].sockets[0].getsockname()[1]


StartGateway = Callable[..., Setup]


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[StartGateway]:
    """``start_gateway(fake=None, *, settings={...}, **build_gateway_kwargs)``: a gateway built
    as ``ctxrouter serve`` builds it (:func:`build_gateway`), over a fresh fake upstream, its
    Events collected in a list. Retries do not wait (``retry.*_delay_s = 0``)."""
    running: list[tuple[Setup, uvicorn.Server, threading.Thread, FakeAnthropic]] = []

    def start(
        fake: FakeAnthropic | None = None,
        *,
        settings: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Setup:
        fake = (fake or FakeAnthropic()).start()
        events: list[Event] = []
        given = dict(settings or {})
        retry = {**QUICK_RETRY, **given.pop("retry", {})}
        given.setdefault("data_dir", tmp_path / "data")
        configured = Settings.load(retry=retry, **given)
        gateway = build_gateway(configured, upstream=fake.base_url, sink=events.append, **kwargs)
        server, thread, port = serve_in_thread(gateway.app)
        setup = Setup(fake, f"http://127.0.0.1:{port}", events)
        running.append((setup, server, thread, fake))
        return setup

    try:
        yield start
    finally:
        for setup, server, thread, fake in running:
            for client in setup.clients:
                client.close()
            server.should_exit = True
            thread.join()
            fake.stop()


@pytest.fixture
def gateway(start_gateway: StartGateway) -> Setup:
    return start_gateway()
