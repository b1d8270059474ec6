"""The hook's helper process: keeps routers warm so each hook call costs milliseconds.

Claude Code waits for a PreToolUse hook before every ``Agent`` call. Loading the router (its
imports, the catalog, the detection rules) takes about 0.3 s, so the first hook call starts
this process and every later call asks it over a Unix socket (one JSON line each way). It
serves one environment (the socket's name is derived from it, see :func:`socket_path`),
caches one router per project directory, rebuilds it when an agent file or the config
changes, and exits after ``CTXROUTER_HOOK_IDLE_S`` seconds without a request (default 900),
when asked to stop, or when its socket file is removed or replaced.

Run as ``python -m ctxrouter.integrations.claude_code.hookd SOCKET``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import socketserver
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ctxrouter.integrations.claude_code.hook_route import build_router, hook_output
from ctxrouter.routing.router import Router

log = logging.getLogger(__name__)

DEFAULT_IDLE_S = 900.0
MAX_REQUEST_BYTES = 4 * 1024 * 1024


class RouterCache:
    """One router per project directory, rebuilt when what it was built from changes; its
    correction counts are re-read from the store every ``runtime.correction_refresh_s``, so
    the hook decides as ``ctxrouter route`` does with the same feedback recorded."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._lock = threading.Lock()
        self._routers: dict[str, tuple[tuple[Any, ...], Router, float]] = {}

    def get(self, cwd: str | None) -> Router:
        from ctxrouter.config import Settings
        from ctxrouter.routing.corrections import CorrectionStage, configured_corrections

        folder = Path(cwd) if cwd else None
        key = str(folder)
        stamp = fingerprint(folder, self.home)
        now = time.monotonic()
        with self._lock:
            cached = self._routers.get(key)
        if cached is not None and cached[0] == stamp:
            router, read_at = cached[1], cached[2]
            settings = Settings.load()
            if now - read_at < settings.runtime.correction_refresh_s:
                return router
            stage = router.stage(CorrectionStage.name)
            if isinstance(stage, CorrectionStage):
                stage.update(configured_corrections(settings, time.time()))
        else:
            router = build_router(folder, self.home)
        with self._lock:
            self._routers[key] = (stamp, router, now)
        return router


def fingerprint(cwd: Path | None, home: Path) -> tuple[Any, ...]:
    """What the router depends on that can change while the helper runs: the config file
    and the agent folders (names, sizes and modification times of their files)."""
    from ctxrouter.catalog.discovery import watched_folders
    from ctxrouter.config import Settings, default_config_path

    config = default_config_path()
    settings = Settings.load()
    folders = watched_folders(settings, cwd, home)
    entries: list[Any] = [_stat(config)]
    for folder in folders:
        entries.append((str(folder), _stat(folder)))
        if folder.is_dir():
            entries.extend((str(p), _stat(p)) for p in sorted(folder.rglob("*.md")))
    return tuple(entries)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


class _Handler(socketserver.StreamRequestHandler):
    server: HookServer

    def handle(self) -> None:
        self.server.touch()
        line = self.rfile.readline(MAX_REQUEST_BYTES)
        stopping = False
        try:
            request = json.loads(line)
            if request.get("cmd") == "stop":
                reply: dict[str, Any] = {"stopped": True}
                stopping = True
            elif request.get("cmd") == "ping":
                reply = {"pid": os.getpid()}
            else:
                event = request["event"]
                router = self.server.routers.get(event.get("cwd"))
                reply = {"output": hook_output(event, router)}
        except Exception as exc:  # the client logs it and lets the call through
            log.exception("hookd: request failed")
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        self.wfile.write(json.dumps(reply).encode() + b"\n")
        self.wfile.flush()
        if stopping:  # after the reply is out: the process may end as soon as serving stops
            threading.Thread(target=self.server.shutdown, daemon=True).start()


class HookServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, idle_s: float) -> None:
        self.path = path
        self.idle_s = idle_s
        self.routers = RouterCache(Path.home())
        self._last = time.monotonic()
        super().__init__(str(path), _Handler)
        self.inode = path.stat().st_ino

    def touch(self) -> None:
        self._last = time.monotonic()

    def watch(self) -> None:
        """Stop when idle, or when the socket file is gone or belongs to another helper."""
        while True:
            time.sleep(min(1.0, self.idle_s))
            idle = time.monotonic() - self._last > self.idle_s
            try:
                replaced = self.path.stat().st_ino != self.inode
            except OSError:
                replaced = True
            if idle or replaced:
                self.shutdown()
                return


def alive(path: Path) -> bool:
    """Does a helper answer on ``path``?"""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def serve(path: Path, idle_s: float | None = None) -> int:
    if idle_s is None:
        idle_s = float(os.environ.get("CTXROUTER_HOOK_IDLE_S", DEFAULT_IDLE_S))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if alive(path):
        return 0  # another helper got there first
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a stale socket left by a helper that died
    old_umask = os.umask(0o077)  # the socket: its owner only
    try:
        server = HookServer(path, idle_s)
    except OSError:
        return 0 if alive(path) else 1
    finally:
        os.umask(old_umask)
    pid_file = path.with_suffix(".pid")
    pid_file.write_text(str(os.getpid()))
    threading.Thread(target=server.watch, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        with contextlib.suppress(OSError):
            if path.stat().st_ino == server.inode:
                path.unlink()
        with contextlib.suppress(OSError):
            if pid_file.read_text() == str(os.getpid()):
                pid_file.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m ctxrouter.integrations.claude_code.hookd SOCKET", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    return serve(Path(args[0]))


if __name__ == "__main__":
    raise SystemExit(main())
