"""Gateway figures: what ``ctxrouter serve`` adds between a client and the Anthropic API.

Every party runs in its own process on loopback: the fake Anthropic API
(:class:`~ctxrouter.testing.fake_anthropic.FakeAnthropic`), the gateway (``build_gateway``
from the settings under uvicorn with uvicorn's defaults, as ``ctxrouter serve`` runs it, its
telemetry sink counting events), the LiteLLM proxy when installed
(``sh bench/litellm_setup.sh``), and this process, the client (a lean HTTP/1.1 keep-alive
client on asyncio streams, see :class:`Connection`). CPU time and RSS are read from ``/proc``.
Prints one JSON object:

``latency``
    concurrency 1, non-streaming and streaming (time to the whole answer): each request through
    a proxy alternates with one straight to the fake, so both see the same machine; the added
    p50 / p99 is the difference of the two distributions' percentiles. The proxy's CPU time
    per request is its process CPU delta over the run / requests.
``throughput``
    requests/s at concurrency 1, 16 and 64 for ``--seconds`` each, non-streaming and streaming,
    straight to the fake (the ceiling of this machine) and through each proxy. Every request is
    counted (sent / ok / failed) and for the gateway its sink must have received one event per
    request ("no request lost"). CPU time per request and CPU use of each process are given.
``long_streams``
    concurrency 1, streams of ``--long-deltas`` text deltas (about a real answer's length) from
    a third fake through a second gateway: the gateway's CPU time per SSE event it relays.
``memory``
    ``--streams`` concurrent streaming requests held open by a second fake that pauses
    ``--hold`` seconds between deltas: the proxy's RSS before and while they are open, MB per
    1,000 open streams. The clients then hang up; the proxy is probed once more after that.
``goals``
    pass / fail of: p50 added < 1 ms at concurrency 1; < 1 ms gateway CPU per request (worst
    run); gateway throughput >= 10x LiteLLM's (best of its two endpoints); no request lost.

    .venv/bin/python bench/gateway.py [--requests N] [--seconds S] [--streams N] [--no-litellm]

Progress goes to stderr. The fakes run as ``python -m ctxrouter.testing.fake_anthropic``;
``--role gateway`` is the gateway process's entry.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import aiohttp
import httpx

from ctxrouter.analytics.percentiles import nearest_rank

ROOT = Path(__file__).resolve().parent.parent
LITELLM_BIN = ROOT / ".tools" / "litellm-venv" / "bin" / "litellm"
MODEL = "claude-sonnet-5-5"
SLOW_MODEL = "claude-slow-stream"  # LiteLLM's model_list entry for the slow fake
AGENT = "python-pro"  # a catalog agent: routing runs and may rewrite the model
TASK = "Write a Python function that adds two numbers."
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
GOAL_ADDED_P50_MS = 1.0
GOAL_CPU_MS = 1.0
GOAL_RATIO = 10.0
REQUEST_TIMEOUT_S = 60.0


def log(message: str) -> None:
    print(f"[gateway bench] {message}", file=sys.stderr, flush=True)


# -- the child processes ------------------------------------------------------------------


def serve_gateway(args: argparse.Namespace) -> None:
    """The gateway under uvicorn (its defaults, as ``ctxrouter serve``) until SIGTERM.

    Prints its URL (one line) once bound; each ``events`` line on stdin is answered with
    ``{"events": n}``, the events its sink has received (a thread: the app is not touched).
    """
    import uvicorn

    from ctxrouter.config import Settings
    from ctxrouter.gateway import build_gateway
    from ctxrouter.telemetry.event import Event

    received = 0

    def sink(event: Event) -> None:
        nonlocal received
        received += 1

    def answer_queries() -> None:
        for line in sys.stdin:
            if line.strip() == "events":
                print(json.dumps({"events": received}), flush=True)

    with tempfile.TemporaryDirectory(prefix="ctxrouter-bench-") as tmp:
        settings = Settings.load(data_dir=Path(tmp))
        app = build_gateway(settings, upstream=args.upstream, sink=sink).app
        # uvicorn binds (port 0) as `ctxrouter serve` has it bind: a socket made here would lack
        # TCP_NODELAY once accepted (asyncio sets it only for IPPROTO_TCP sockets), and every
        # keep-alive answer would wait ~40 ms on Nagle + delayed ACK
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)

        def announce() -> None:
            while not server.started:
                time.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            print(f"http://127.0.0.1:{port}", flush=True)
            answer_queries()

        threading.Thread(target=announce, daemon=True).start()
        server.run()


# -- processes seen from here -------------------------------------------------------------


@dataclass
class Child:
    """A process this benchmark started, and the base URL it serves."""

    name: str
    process: subprocess.Popen[str]
    url: str
    log_file: IO[str] | None = None
    key: str = "sk-bench"  # what clients send as x-api-key

    @property
    def pid(self) -> int:
        return self.process.pid

    def events(self) -> int:
        """Events the gateway's sink received (gateway children only)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("events\n")
        self.process.stdin.flush()
        return int(json.loads(self.process.stdout.readline())["events"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log_file is not None:
            self.log_file.close()


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (LiteLLM may fork workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found, todo = [pid], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        todo += children
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its descendants (``/proc/<pid>/stat``)."""
    total = 0
    for one in tree(pid):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{one}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants (``VmRSS``), in MB."""
    total_kb = 0
    for one in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    return round(total_kb / 1024, 1)


def spawn_fake(*options: str) -> Child:
    """A fake Anthropic API in its own process (``python -m ctxrouter.testing.fake_anthropic``)."""
    module = "ctxrouter.testing.fake_anthropic"
    command = [sys.executable, "-m", module, "--keep-requests", "100", *options]
    return spawn("fake", command, ready_path="/v1/models")


def spawn_gateway(upstream: str) -> Child:
    """The gateway in its own process (``--role gateway`` of this script) in front of
    ``upstream``."""
    this = str(Path(__file__).resolve())
    command = [sys.executable, this, "--role", "gateway", "--upstream", upstream]
    return spawn("gateway", command, ready_path="/healthz")


def spawn(name: str, command: list[str], *, ready_path: str) -> Child:
    """Start ``command``, which prints the URL it serves (one line) once listening."""
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"{name} process exited before listening (code {process.wait()})")
    child = Child(name, process, line.strip())
    wait_ready(f"{child.url}{ready_path}", child)
    return child


def wait_ready(url: str, child: Child, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited with code {child.process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{child.name} not ready at {url} after {seconds:.0f} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_litellm(fast_url: str, slow_url: str, tmp: Path, streams: int) -> Child | str:
    """The LiteLLM proxy on both fakes, or why not. ``/v1/messages`` serves ``MODEL`` (on the
    fast fake) and ``SLOW_MODEL`` (on the slow one); ``/anthropic`` passes through to the fast
    fake (``ANTHROPIC_API_BASE``)."""
    if not LITELLM_BIN.exists():
        where = LITELLM_BIN.relative_to(ROOT)
        return f"LiteLLM is not installed at {where}: run sh bench/litellm_setup.sh"
    key = f"sk-bench-{secrets.token_hex(16)}"
    entries = [(MODEL, fast_url), (SLOW_MODEL, slow_url)]
    config = {
        "model_list": [
            {
                "model_name": name,
                "litellm_params": {"model": f"anthropic/{MODEL}", "api_base": url, "api_key": "x"},
            }
            for name, url in entries
        ],
        "general_settings": {"master_key": key},
    }
    path = tmp / "litellm.yaml"
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    env = {
        **os.environ,
        "ANTHROPIC_API_BASE": fast_url,
        "ANTHROPIC_API_KEY": "x",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price map at start
        "LITELLM_LOG": "ERROR",
        # its upstream pool holds 500 connections per host by default: room for every stream
        "AIOHTTP_CONNECTOR_LIMIT": str(max(1000, streams + 100)),
        "AIOHTTP_CONNECTOR_LIMIT_PER_HOST": str(max(1000, streams + 100)),
    }
    port = free_port()
    log_file = (tmp / "litellm.log").open("w")
    command = [str(LITELLM_BIN), "--config", str(path), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    child = Child("litellm", process, f"http://127.0.0.1:{port}", log_file, key)
    try:
        wait_ready(f"{child.url}/health/liveliness", child)
    except RuntimeError as exc:
        child.stop()
        tail = (tmp / "litellm.log").read_text(errors="replace").splitlines()[-5:]
        return f"LiteLLM did not start: {exc}; log: {' | '.join(tail)}"
    return child


# -- the client ---------------------------------------------------------------------------


@dataclass
class Target:
    """Where message requests go, and the process that serves them."""

    name: str
    url: str  # the server's base URL
    path: str  # its Messages endpoint
    key: str  # sent as x-api-key
    child: Child
    model: str = MODEL
    counts_events: bool = False

    def request(self, stream: bool, system_kb: int) -> bytes:
        """The whole HTTP/1.1 request, ready to write."""
        body = request_body(stream, system_kb, self.model)
        head = [
            f"POST {self.path} HTTP/1.1",
            f"host: {urlsplit(self.url).netloc}",
            "content-type: application/json",
            f"content-length: {len(body)}",
            f"x-api-key: {self.key}",
            "anthropic-version: 2023-06-01",
            f"x-ctxrouter-agent: {AGENT}",
        ]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def request_body(stream: bool, system_kb: int, model: str = MODEL) -> bytes:
    system = ("You are a careful senior engineer. Answer briefly. " * (system_kb * 21 + 1))[
        : system_kb * 1024
    ]
    body = {
        "model": model,
        "max_tokens": 256,
        "system": system or "You are terse.",
        "messages": [{"role": "user", "content": TASK}],
        "stream": stream,
    }
    return json.dumps(body).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection, the whole client: requests are written in one piece
    and answers read to their end (``Content-Length`` or chunked). A lean client keeps the
    measuring process out of the way: ``httpx.AsyncClient`` took ~5 ms of CPU a request at 64
    connections here, and capped even the fake alone at ~180 requests/s."""

    def __init__(self, url: str) -> None:
        split = urlsplit(url)
        self.host, self.port = split.hostname or "127.0.0.1", split.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes, on_head: Callable[[], None] | None = None) -> Answer:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.reader, self.writer
        try:
            writer.write(request)
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if on_head is not None:
                on_head()
            if "chunked" in headers.get("transfer-encoding", ""):
                tail = b""
                while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    tail = (tail + (await reader.readexactly(size + 2))[:-2])[-64:]
                await reader.readuntil(b"\r\n")  # no trailers
            elif "content-length" in headers:
                tail = await reader.readexactly(int(headers["content-length"]))
            else:
                tail = await reader.read()
                self.close()
            if headers.get("connection", "").lower() == "close":
                self.close()
            return Answer(int(head[0].split(" ", 2)[1]), tail)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    tail: bytes  # the body (non-streaming) or its last 64 bytes (chunked)

    def failure(self, stream: bool) -> str | None:
        """Why this is not a whole answer, or ``None``."""
        if self.status != 200:
            return f"status {self.status}"
        if stream:
            return None if b"message_stop" in self.tail else "stream cut short"
        return None if b'"type":"message"' in self.tail else "not a message"


@dataclass
class Load:
    """One run's counts and the times of its whole answers (seconds)."""

    sent: int = 0
    ok: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)

    async def send(self, connection: Connection, request: bytes, stream: bool) -> None:
        self.sent += 1
        started = time.perf_counter()
        try:
            answer = await asyncio.wait_for(connection.exchange(request), REQUEST_TIMEOUT_S)
            why = answer.failure(stream)
        except (TimeoutError, OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:
            why = type(exc).__name__
        if why is None:
            self.ok += 1
            self.times.append(time.perf_counter() - started)
        else:
            self.failed += 1
            self.errors[why] = self.errors.get(why, 0) + 1

    def counts(self) -> dict[str, Any]:
        errors = {"errors": self.errors} if self.errors else {}
        return {"sent": self.sent, "ok": self.ok, "failed": self.failed, **errors}


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def percentiles(times: list[float]) -> dict[str, float | None]:
    if not times:
        return {"p50_ms": None, "p99_ms": None}
    p50, p99 = nearest_rank(times, (0.5, 0.99))
    return {"p50_ms": ms(p50), "p99_ms": ms(p99)}


# -- sections -----------------------------------------------------------------------------


async def latency(
    direct: Target,
    proxy: Target,
    requests: int,
    system_kb: int,
    modes: tuple[bool, ...] = (False, True),
) -> dict[str, Any]:
    """Concurrency 1, a proxy request alternating with a direct one (``modes``: stream or not)."""
    out: dict[str, Any] = {"requests": requests}
    via_proxy, straight = Connection(proxy.url), Connection(direct.url)
    for stream in modes:
        mode = "streaming" if stream else "non_streaming"
        mine, theirs = proxy.request(stream, system_kb), direct.request(stream, system_kb)
        warm = Load()
        for _ in range(min(200, requests)):  # connections, lazy imports, caches
            await warm.send(via_proxy, mine, stream)
            await warm.send(straight, theirs, stream)
        events_before = proxy.child.events() if proxy.counts_events else 0
        cpu_before = cpu_seconds(proxy.child.pid)
        through, around = Load(), Load()
        for _ in range(requests):
            await through.send(via_proxy, mine, stream)
            await around.send(straight, theirs, stream)
        cpu = cpu_seconds(proxy.child.pid) - cpu_before
        a, b = percentiles(through.times), percentiles(around.times)
        added: dict[str, float | None] = {}
        for name in ("p50_ms", "p99_ms"):
            slow, fast = a[name], b[name]
            added[f"added_{name}"] = (
                round(slow - fast, 3) if slow is not None and fast is not None else None
            )
        out[mode] = {
            **added,
            "proxy": a,
            "direct": b,
            "cpu_ms_per_request": round(cpu * 1000 / max(1, through.sent), 3),
            **through.counts(),
        }
        if proxy.counts_events:
            out[mode]["events"] = proxy.child.events() - events_before
        log(f"latency {proxy.name} {mode}: {out[mode]}")
    via_proxy.close()
    straight.close()
    return out


async def run_load(
    target: Target, stream: bool, concurrency: int, seconds: float, system_kb: int, fake: Child
) -> dict[str, Any]:
    """``concurrency`` connections send back-to-back requests for ``seconds``; every request
    started is read to its end."""
    request = target.request(stream, system_kb)
    connections = [Connection(target.url) for _ in range(concurrency)]
    warm = Load()  # open the connections before the clock starts
    await asyncio.gather(*(warm.send(c, request, stream) for c in connections))
    events_before = target.child.events() if target.counts_events else 0
    proxy_before, fake_before = cpu_seconds(target.child.pid), cpu_seconds(fake.pid)
    client_before = time.process_time()
    load = Load()
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(connection: Connection) -> None:
        while time.perf_counter() < deadline:
            await load.send(connection, request, stream)

    await asyncio.gather(*(worker(c) for c in connections))
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - client_before
    fake_cpu = cpu_seconds(fake.pid) - fake_before
    proxy_cpu = cpu_seconds(target.child.pid) - proxy_before
    for connection in connections:
        connection.close()
    result: dict[str, Any] = {
        "concurrency": concurrency,
        **load.counts(),
        "requests_per_s": round(load.ok / wall, 1),
        **percentiles(load.times),
    }
    if target.child is not fake:
        result["cpu_ms_per_request"] = round(proxy_cpu * 1000 / max(1, load.sent), 3)
        result["proxy_cpu_pct"] = round(100 * proxy_cpu / wall)
    result["fake_cpu_pct"] = round(100 * fake_cpu / wall)
    result["client_cpu_pct"] = round(100 * client_cpu / wall)
    if target.counts_events:
        result["events"] = target.child.events() - events_before
        result["no_request_lost"] = load.ok == load.sent == result["events"]
    return result


async def throughput(
    target: Target, levels: list[int], seconds: float, system_kb: int, fake: Child
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stream in (False, True):
        mode = "streaming" if stream else "non_streaming"
        out[mode] = []
        for concurrency in levels:
            run = await run_load(target, stream, concurrency, seconds, system_kb, fake)
            log(f"throughput {target.name} {mode}: {run}")
            out[mode].append(run)
    return out


async def memory(target: Target, streams: int, system_kb: int, wait: float) -> dict[str, Any]:
    """Open ``streams`` streaming requests on a fake that holds them; the proxy's RSS before
    and while they are open (a stream is open once its answer's head has arrived)."""
    request = target.request(True, system_kb)
    warm = Load()
    connections = [Connection(target.url) for _ in range(20)]
    await asyncio.gather(*(warm.send(c, request, True) for c in connections))
    for connection in connections:
        connection.close()
    await asyncio.sleep(0.5)
    rss_before = rss_mb(target.child.pid)
    events_before = target.child.events() if target.counts_events else 0
    opened = 0

    def on_head() -> None:
        nonlocal opened
        opened += 1

    connections = [Connection(target.url) for _ in range(streams)]
    tasks = [asyncio.create_task(c.exchange(request, on_head)) for c in connections]
    started = time.perf_counter()
    peak, seen, last_change = rss_before, 0, started
    while opened < streams and time.perf_counter() - started < wait:
        await asyncio.sleep(0.25)
        peak = max(peak, rss_mb(target.child.pid))
        if opened != seen:
            seen, last_change = opened, time.perf_counter()
    await asyncio.sleep(0.5)
    rss_open = rss_mb(target.child.pid)
    open_now = opened - sum(task.done() for task in tasks)
    result: dict[str, Any] = {
        "requests_in_flight": streams,
        "streams_open": open_now,
        "seconds_to_open": round(last_change - started, 1),
        "rss_before_mb": rss_before,
        "rss_open_mb": rss_open,
        "rss_peak_mb": max(peak, rss_open),
        "mb_per_1000_open_streams": round((rss_open - rss_before) / open_now * 1000, 1)
        if open_now
        else None,
    }
    for task in tasks:  # the clients hang up
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for connection in connections:
        connection.close()
    await asyncio.sleep(2.0)
    if target.counts_events:
        result["events_after_hang_up"] = target.child.events() - events_before
    probe, connection = Load(), Connection(target.url)
    for _ in range(3):
        await probe.send(connection, target.request(False, system_kb), False)
    connection.close()
    result["answered_after_hang_up"] = probe.counts()
    log(f"memory {target.name}: {result}")
    return result


async def long_streams(args: argparse.Namespace, short: dict[str, Any]) -> dict[str, Any]:
    """Concurrency 1, streams of ``--long-deltas`` text deltas (a ~2,000-character answer, as
    a real one): what the gateway's CPU time grows by per SSE event it relays."""
    deltas = args.long_deltas
    chars = max(deltas * 10, 100)
    reply = ("lorem ipsum dolor sit amet " * (chars // 27 + 1))[:chars]
    fake = spawn_fake("--stream-chunks", str(deltas), "--reply", reply)
    gateway = spawn_gateway(fake.url)
    try:
        direct = Target("direct", fake.url, "/v1/messages", "sk-bench", fake)
        ours = Target(
            "gateway", gateway.url, "/v1/messages", "sk-bench", gateway, counts_events=True
        )
        measured = await latency(direct, ours, args.long_requests, args.system_kb, modes=(True,))
    finally:
        gateway.stop()
        fake.stop()
    streaming = measured["streaming"]
    events_long, events_short = (
        deltas + 6,
        4 + 6,
    )  # start, block start, ping, ..., stop, delta, stop
    extra_cpu = streaming["cpu_ms_per_request"] - short["streaming"]["cpu_ms_per_request"]
    return {
        "deltas": deltas,
        "sse_events_per_stream": events_long,
        "answer_chars": chars,
        "streaming": streaming,
        "cpu_us_per_sse_event": round(extra_cpu * 1000 / (events_long - events_short), 1),
    }


# -- the run ------------------------------------------------------------------------------


def goals(result: dict[str, Any]) -> dict[str, Any]:
    modes = ("non_streaming", "streaming")
    at_1 = result["latency"]["gateway"]
    runs = [r for m in modes for r in result["throughput"]["gateway"][m]]
    added = {m: at_1[m]["added_p50_ms"] for m in modes}
    cpu = {m: at_1[m]["cpu_ms_per_request"] for m in modes}
    worst_cpu = max([r["cpu_ms_per_request"] for r in runs] + list(cpu.values()))
    checked = [*runs, *(at_1[m] for m in modes)]
    lost = [r for r in checked if not r["ok"] == r["sent"] == r["events"]]
    out: dict[str, Any] = {
        "p50_added_under_1ms": {
            "concurrency_1_ms": added,
            "pass": all(v is not None and v < GOAL_ADDED_P50_MS for v in added.values()),
        },
        "cpu_under_1ms_per_request": {
            "concurrency_1_ms": cpu,
            "worst_of_all_runs_ms": worst_cpu,
            "pass": worst_cpu < GOAL_CPU_MS,
        },
        "no_request_lost": {
            "runs_checked": len(checked),
            "requests": sum(r["sent"] for r in checked),
            "runs_with_a_loss": len(lost),
            "pass": not lost,
        },
    }
    litellm = {k: v for k, v in result["throughput"].items() if k.startswith("litellm")}
    if not litellm:
        out["throughput_10x_litellm"] = {"pass": None, "skipped": "LiteLLM not measured"}
        return out
    ratios: dict[str, Any] = {}
    for mode in modes:
        ours = max(r["requests_per_s"] for r in result["throughput"]["gateway"][mode])
        theirs = max(r["requests_per_s"] for runs_ in litellm.values() for r in runs_[mode])
        ratios[mode] = {
            "gateway_max_rps": ours,
            "litellm_max_rps": theirs,
            "ratio": round(ours / theirs, 1) if theirs else None,
        }
    out["throughput_10x_litellm"] = {
        "by_mode": ratios,
        "pass": all(r["ratio"] is not None and r["ratio"] >= GOAL_RATIO for r in ratios.values()),
    }
    return out


async def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    levels = [int(c) for c in args.concurrency.split(",")]
    children: list[Child] = []
    try:
        fake = spawn_fake()
        slow = spawn_fake("--chunk-delay", str(args.hold))
        children += [fake, slow]
        gateway = spawn_gateway(fake.url)
        children.append(gateway)
        direct = Target("direct", fake.url, "/v1/messages", "sk-bench", fake)
        ours = Target(
            "gateway", gateway.url, "/v1/messages", "sk-bench", gateway, counts_events=True
        )
        proxies = [ours]
        litellm: Child | str = (
            "--no-litellm given"
            if args.no_litellm
            else start_litellm(fake.url, slow.url, tmp, args.streams)
        )
        if isinstance(litellm, Child):
            children.append(litellm)
            proxies += [
                Target("litellm_messages", litellm.url, "/v1/messages", litellm.key, litellm),
                Target(
                    "litellm_passthrough",
                    litellm.url,
                    "/anthropic/v1/messages",
                    litellm.key,
                    litellm,
                ),
            ]
        else:
            log(f"LiteLLM skipped: {litellm}")
        result: dict[str, Any] = {"latency": {}, "throughput": {}, "memory": {}}
        for proxy in proxies:
            n = args.requests if proxy is ours else args.litellm_requests
            result["latency"][proxy.name] = await latency(direct, proxy, n, args.system_kb)
        for target in [direct, *proxies]:
            result["throughput"][target.name] = await throughput(
                target, levels, args.seconds, args.system_kb, fake
            )
        if args.long_deltas:
            result["long_streams"] = await long_streams(args, result["latency"]["gateway"])
        if args.streams:
            held = spawn_gateway(slow.url)
            children.append(held)
            result["memory"]["gateway"] = await memory(
                Target("gateway", held.url, "/v1/messages", "sk-bench", held, counts_events=True),
                args.streams,
                args.system_kb,
                args.wait,
            )
            held.stop()
            if isinstance(litellm, Child):
                result["memory"]["litellm_messages"] = await memory(
                    Target(
                        "litellm_messages",
                        litellm.url,
                        "/v1/messages",
                        litellm.key,
                        litellm,
                        model=SLOW_MODEL,
                    ),
                    args.streams,
                    args.system_kb,
                    args.wait,
                )
        if not isinstance(litellm, Child):
            result["litellm"] = {"skipped": litellm}
        else:
            version = subprocess.run(
                [
                    str(LITELLM_BIN.with_name("python")),
                    "-c",
                    "import importlib.metadata as m; print(m.version('litellm'))",
                ],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            result["litellm"] = {
                "version": version,
                "endpoints": {
                    "litellm_messages": "/v1/messages (model_list: anthropic/<model>, api_base)",
                    "litellm_passthrough": "/anthropic/v1/messages (ANTHROPIC_API_BASE)",
                },
                "setup": "1 worker (its default), master key, no database, cost map local",
            }
        result["goals"] = goals(result)
        return result
    finally:
        for child in reversed(children):
            child.stop()


def machine() -> dict[str, Any]:
    import uvicorn

    loop = "uvloop" if _importable("uvloop") else "asyncio"
    http = "httptools" if _importable("httptools") else "h11"
    cpu_model = next(
        (
            line.partition(":")[2].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src/ctxrouter/gateway"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu_model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "uvicorn": f"{uvicorn.__version__} ({loop} loop, {http} HTTP parser)",
        "upstream_client": f"aiohttp {aiohttp.__version__}",
        "commit": commit + (" (gateway code modified)" if dirty else ""),
    }


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def main() -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000, help="latency: requests per mode")
    parser.add_argument("--litellm-requests", type=int, default=300, help="latency, LiteLLM")
    parser.add_argument("--long-requests", type=int, default=500, help="long streams: requests")
    parser.add_argument("--seconds", type=float, default=3.0, help="throughput: per run")
    parser.add_argument("--concurrency", default="1,16,64", help="throughput levels")
    parser.add_argument("--streams", type=int, default=1000, help="memory: streams (0: skip)")
    parser.add_argument("--hold", type=float, default=10.0, help="memory: seconds per delta")
    parser.add_argument("--wait", type=float, default=30.0, help="memory: longest wait to open")
    parser.add_argument("--system-kb", type=int, default=4, help="system prompt size")
    parser.add_argument(
        "--long-deltas", type=int, default=200, help="long streams: text deltas (0: skip)"
    )
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--role", choices=["gateway"], help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "gateway":
        serve_gateway(args)
        return None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ctxrouter-bench-") as tmp:
        result = asyncio.run(bench(args, Path(tmp)))
    return {
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("role", "upstream")},
        **result,
        "bench_seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    output = main()
    if output is not None:
        print(json.dumps(output, indent=2))
