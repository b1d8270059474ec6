"""``ctxrouter hook pre-tool-use``: route each subagent Claude Code is about to spawn.

Claude Code runs this before every ``Agent`` tool call (``ctxrouter install-hook`` sets the
matcher) with the call on stdin, and waits. For a subagent the catalog knows, it prints::

    {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                            "updatedInput": {...the original input, "model": "haiku"},
                            "additionalContext": "ctxrouter routed subagent ... : why"}}

Anything else (another tool, an unknown subagent) gets no output: the call goes on
untouched. It must never break the session: on any internal error it prints nothing, exits 0
and appends the error to ``hook.log`` in the data directory.

Speed: this module imports only the standard library. The routing itself runs in a helper
process (:mod:`.hookd`) that keeps the router loaded; the first call starts it and routes in
this process (about 0.3 s), later calls ask it over a Unix socket (a few milliseconds on top
of Python's start). ``CTXROUTER_HOOK_DAEMON=0`` routes in-process every time. The socket's
name says which ctxrouter serves it (:func:`installed_version`), so an upgrade starts a new
helper.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

CONNECT_TIMEOUT_S = 0.5
REPLY_TIMEOUT_S = 5.0
LOG_MAX_BYTES = 1_000_000
# environment that changes what the router is built from (the helper serves one such set)
_ENV_KEYS = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")


def socket_path(env: dict[str, str] | None = None) -> Path:
    """The helper's socket for this environment, in a folder only this user can enter."""
    env = dict(os.environ if env is None else env)
    relevant = sorted(
        (k, v)
        for k, v in env.items()
        if k in _ENV_KEYS or (k.startswith("CTXROUTER_") and not k.startswith("CTXROUTER_HOOK"))
    )
    base = env.get("XDG_RUNTIME_DIR") or env.get("TMPDIR") or "/tmp"
    folder = Path(base) / f"ctxrouter-{os.getuid()}"
    key = json.dumps([installed_version(folder), sys.executable, relevant]).encode()
    digest = hashlib.sha256(key).hexdigest()[:16]
    return folder / f"hook-{digest}.sock"


def installed_version(folder: Path) -> str:
    """``ctxrouter.__version__``, remembered in ``folder`` while the folders Python finds
    installed distributions in (``sys.path``) stay as they are.

    Reading it imports importlib.metadata, which takes longer than all of this module (it
    would make every hook call about half as slow again). Installing, upgrading or removing a
    distribution adds or removes entries in one of those folders, which changes its mtime: the
    version is read again then (importlib.metadata keys its own cache on the same mtimes).
    """
    marks = [_mtime(entry) for entry in sys.path]
    where = json.dumps([sys.executable, sys.path]).encode()
    cache = folder / f"version-{hashlib.sha256(where).hexdigest()[:16]}.json"
    with contextlib.suppress(OSError, ValueError):
        saved = json.loads(cache.read_bytes())
        if isinstance(saved, dict) and saved.get("marks") == marks:
            version = saved.get("version")
            if isinstance(version, str):
                return version
    import ctxrouter

    version = ctxrouter.__version__
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps({"marks": marks, "version": version}), encoding="utf-8")
        temp.replace(cache)
    return version


def _mtime(entry: str) -> int | None:
    try:
        return Path(entry).stat().st_mtime_ns  # "": the working folder
    except OSError:
        return None


def ask_helper(path: Path, request: dict[str, Any]) -> dict[str, Any] | None:
    """The helper's reply, or ``None`` when no helper answers on ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(CONNECT_TIMEOUT_S)
        try:
            conn.connect(str(path))
        except OSError:
            return None
        conn.settimeout(REPLY_TIMEOUT_S)
        conn.sendall(json.dumps(request).encode() + b"\n")
        chunks: list[bytes] = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                break
    reply = json.loads(b"".join(chunks))
    if not isinstance(reply, dict):
        raise ValueError(f"the hook helper answered {reply!r}")
    return reply


def start_helper(path: Path) -> None:
    """Start the helper in the background, detached from Claude Code's process group."""
    import subprocess

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    subprocess.Popen(
        [sys.executable, "-m", "ctxrouter.integrations.claude_code.hookd", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def route_in_process(event: dict[str, Any]) -> dict[str, Any] | None:
    from ctxrouter.integrations.claude_code.hook_route import build_router, hook_output

    cwd = event.get("cwd")
    router = build_router(Path(cwd) if isinstance(cwd, str) and cwd else None)
    return hook_output(event, router)


def decide(event: dict[str, Any]) -> dict[str, Any] | None:
    """The output for one hook event (helper first, else in this process)."""
    if event.get("tool_name") != "Agent" or not isinstance(event.get("tool_input"), dict):
        return None
    if os.environ.get("CTXROUTER_HOOK_DAEMON", "1") == "0":
        return route_in_process(event)
    path = socket_path()
    reply = ask_helper(path, {"event": event})
    if reply is None:
        start_helper(path)
        return route_in_process(event)
    if "error" in reply:
        raise RuntimeError(f"the hook helper failed: {reply['error']}")
    output = reply.get("output")
    return output if isinstance(output, dict) else None


def main() -> int:
    """Read the event on stdin, print the output (if any). Always exits 0."""
    try:
        event = json.loads(sys.stdin.buffer.read())
        if isinstance(event, dict):
            output = decide(event)
            if output is not None:
                sys.stdout.write(json.dumps(output))
                sys.stdout.flush()
    except Exception:  # never break the session: log, print nothing, let the call through
        log_error(traceback.format_exc())
    return 0


def log_path() -> Path:
    explicit = os.environ.get("CTXROUTER_DATA_DIR")
    if explicit:
        return Path(explicit) / "hook.log"
    import platformdirs

    return Path(platformdirs.user_data_dir("ctxrouter")) / "hook.log"


def log_error(text: str) -> None:
    with contextlib.suppress(Exception):
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > LOG_MAX_BYTES:
            path.replace(path.with_suffix(".log.1"))
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with path.open("a", encoding="utf-8") as out:
            out.write(f"{stamp} ctxrouter hook pre-tool-use failed:\n{text}\n")


__all__ = ["decide", "installed_version", "main", "socket_path"]
