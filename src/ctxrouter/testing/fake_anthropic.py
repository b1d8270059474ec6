"""A fake Anthropic Messages API server on loopback, with fault injection.

Tests, benchmarks and the gateway's tests point a real client (the official SDK, httpx) at it::

    with FakeAnthropic() as fake:
        client = anthropic.Anthropic(api_key="test", base_url=fake.base_url)
        fake.enqueue(Fault.status(529), Fault.status(429, retry_after=1))
        ...                                     # the next two requests fail, then normal answers
        assert fake.requests[0].body["model"] == "claude-haiku-4-5"

It is a minimal HTTP/1.1 server on asyncio streams (request line, headers, ``Content-Length``
body, keep-alive), so it can do what a real upstream does on a bad day: answer an error in the
Anthropic format, hold back the first byte, reset the connection (before or during the body),
or send an ``event: error`` in the middle of a stream. The sync context manager runs it in a
background thread with its own event loop; ``async with`` runs it on the caller's loop.

Endpoints: ``POST /v1/messages`` (``?beta=true`` too; ``stream: true`` answers SSE),
``POST /v1/messages/count_tokens``, ``GET /v1/models`` and ``GET /v1/models/{id}``, and the
Message Batches API: ``POST /v1/messages/batches`` (create), ``GET /v1/messages/batches``
(list, newest first), ``GET /v1/messages/batches/{id}`` (retrieve), ``POST .../{id}/cancel``,
``DELETE .../{id}`` and ``GET .../{id}/results`` (JSON Lines).

What each message request gets, first match wins:

1. a 401 when the server has an ``api_key`` and the request carries another one
   (``x-api-key`` or ``Authorization: Bearer``); a 400 when the body is not a valid request;
2. the first scripted :class:`Fault` (``enqueue``) whose ``model`` is unset or the request's;
   then the ``responder``, when one is given: it sees each request body and may answer it
   with a :class:`Fault` (``Fault.ok(content=[...tool_use...])`` to drive an agent loop, such
   as Claude Code's) or return ``None`` to go on;
3. a magic model name: ``fake-<status>`` (e.g. ``fake-529``; ``fake-429`` carries
   ``retry-after: 1``, ``fake-429-no-retry-after`` does not), ``fake-reset``,
   ``fake-reset-mid`` (reset after part of the body), ``fake-slow-<seconds>``,
   ``fake-stream-error`` or ``fake-stream-error-<error type>``;
4. a random fault drawn with the ``rates`` (``{529: 0.2, 429: 0.05, "reset": 0.01}``; keys are
   statuses, ``"reset"`` or ``"stream_error"``) from a ``random.Random(seed)``;
5. a deterministic answer: the text echoes the last user message, input tokens are about a
   quarter of the prompt's characters, and ``cache_control`` markers are honoured (the first
   request with a given prefix writes the cache, later ones read it; no minimum length).

Every request is recorded in :attr:`FakeAnthropic.requests` before it is answered.

**Message Batches.** A batch is answered at once when it is created: each request in it goes
through steps 2-5 above in order (so it consumes scripted faults, and honours magic models and
random faults), but a failure becomes that request's result instead of an HTTP answer: a
``status`` or ``stream_error`` fault makes it ``errored`` with the fault's error type and
message, a ``reset`` an ``errored`` ``api_error``, :meth:`Fault.expired` makes it ``expired``;
params that ``/v1/messages`` would refuse make it ``errored`` with ``invalid_request_error``
(as the real API, which validates params only while processing). Scripted faults apply only
to the requests inside a batch, never to the batch endpoints themselves. The batch stays
``in_progress`` until it has been retrieved ``batch_polls`` times (default 2: the second
retrieve sees it ``ended``) or ``batch_seconds`` have passed since it was created, whichever
comes first (``None`` turns a condition off; both ``None``: it never ends by itself). A
canceled batch is ``canceling`` until the next retrieve, then ``ended`` with every result
``canceled``. Results come in request order (the real API does not promise any order).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import http
import itertools
import json
import math
import random
import re
import signal
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType, TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, urlsplit

FaultKind = Literal["status", "slow_first_byte", "reset", "stream_error", "ok", "expired"]

ERROR_TYPES: Mapping[int, tuple[str, str]] = MappingProxyType(
    {
        400: ("invalid_request_error", "Invalid request"),
        401: ("authentication_error", "invalid x-api-key"),
        402: ("billing_error", "Your credit balance is too low"),
        403: ("permission_error", "Your API key does not have permission to use this resource"),
        404: ("not_found_error", "Not found"),
        413: ("request_too_large", "Request exceeds the maximum allowed number of bytes"),
        429: ("rate_limit_error", "Number of requests has exceeded your rate limit"),
        500: ("api_error", "Internal server error"),
        502: ("api_error", "Bad gateway"),
        503: ("api_error", "Service unavailable"),
        504: ("timeout_error", "Request timed out"),
        529: ("overloaded_error", "Overloaded"),
    }
)
Responder = Callable[[Mapping[str, Any]], "Fault | None"]
_STATUS_FOR_ERROR_TYPE: Mapping[str, int] = MappingProxyType(
    {"overloaded_error": 529, "rate_limit_error": 429, "api_error": 500, "timeout_error": 504}
)
DEFAULT_MODELS = ("claude-opus-5", "claude-sonnet-5", "claude-sonnet-4-6", "claude-haiku-4-5")
_HEAD_LIMIT = 64 * 1024
_PER_TURN_BETA = "per-turn-control-"
_BATCHES_PATH = "/v1/messages/batches"
_MAX_BATCH_REQUESTS = 100_000
_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_BATCH_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted answer or failure. Build them with the class methods."""

    kind: FaultKind
    status_code: int = 200
    error_type: str | None = None
    message: str | None = None
    retry_after: float | str | None = None  # seconds, or an HTTP date
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0  # before the first byte
    mid_body: bool = False  # reset: after part of the body has been sent
    after_deltas: int = 2  # stream_error and mid-body reset: text deltas sent first
    text: str | None = None
    content: tuple[Mapping[str, Any], ...] | None = None
    usage: Mapping[str, Any] | None = None
    stop_reason: str | None = None
    model: str | None = None  # only requests for this model consume it

    @classmethod
    def status(
        cls,
        status_code: int,
        *,
        retry_after: float | str | None = None,
        error_type: str | None = None,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        model: str | None = None,
    ) -> Fault:
        """An error answer in the Anthropic format (``retry_after`` sets ``retry-after``)."""
        default_type, default_message = ERROR_TYPES.get(status_code, ("api_error", "Error"))
        return cls(
            kind="status",
            status_code=status_code,
            error_type=error_type or default_type,
            message=message or default_message,
            retry_after=retry_after,
            headers=tuple((headers or {}).items()),
            model=model,
        )

    @classmethod
    def slow_first_byte(cls, seconds: float, *, model: str | None = None) -> Fault:
        """A normal answer whose first byte is held back ``seconds``."""
        return cls(kind="slow_first_byte", delay_s=seconds, model=model)

    @classmethod
    def reset(cls, *, mid_body: bool = False, model: str | None = None) -> Fault:
        """Reset the connection (TCP RST) before any byte, or after part of the body."""
        return cls(kind="reset", mid_body=mid_body, model=model)

    @classmethod
    def stream_error(
        cls,
        error_type: str = "overloaded_error",
        *,
        message: str | None = None,
        after_deltas: int = 2,
        model: str | None = None,
    ) -> Fault:
        """An ``event: error`` after ``after_deltas`` content deltas (before ``message_delta``
        when the answer has fewer; ``after_deltas=-1``: as the stream's first event, before
        ``message_start``, as an overloaded API opens a stream). A non-streaming request gets
        the matching status instead (``overloaded_error`` → 529, ``api_error`` → 500,
        ``rate_limit_error`` → 429, else 400)."""
        status = _STATUS_FOR_ERROR_TYPE.get(error_type, 400)
        default_message = ERROR_TYPES.get(status, ("", "Error"))[1]
        return cls(
            kind="stream_error",
            status_code=status,
            error_type=error_type,
            message=message or default_message,
            after_deltas=after_deltas,
            model=model,
        )

    @classmethod
    def expired(cls, *, model: str | None = None) -> Fault:
        """In a Message Batch: the request's result is ``expired`` (the batch ran out of its
        24 hours first). A plain message request gets a 504 ``timeout_error`` instead."""
        default_type, default_message = ERROR_TYPES[504]
        return cls(
            kind="expired",
            status_code=504,
            error_type=default_type,
            message=default_message,
            model=model,
        )

    @classmethod
    def ok(
        cls,
        text: str | None = None,
        *,
        usage: Mapping[str, Any] | None = None,
        content: Sequence[Mapping[str, Any]] | None = None,
        stop_reason: str | None = None,
        delay_s: float = 0.0,
        model: str | None = None,
    ) -> Fault:
        """A scripted answer. ``content`` replaces the content blocks (e.g. ``tool_use``
        blocks; their ``id`` is filled in when missing); ``usage`` is merged over the computed
        usage (a ``None`` value removes the key, e.g. ``{"cache_creation": None}``)."""
        return cls(
            kind="ok",
            text=text,
            usage=usage,
            content=tuple(content) if content is not None else None,
            stop_reason=stop_reason,
            delay_s=delay_s,
            model=model,
        )


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server received it, and the fault it was answered with."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # names lower-cased
    body: Any  # the parsed JSON body, or None
    fault: Fault | None
    status_code: int  # what was (or was to be) answered; 0 for a reset

    @property
    def model(self) -> str | None:
        model = self.body.get("model") if isinstance(self.body, dict) else None
        return model if isinstance(model, str) else None

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True


@dataclass(frozen=True, slots=True)
class _Reply:
    message_id: str
    model: str
    content: list[dict[str, Any]]
    stop_reason: str
    usage: dict[str, Any]


@dataclass(slots=True)
class _Batch:
    """One Message Batch: its results are decided at creation, shown once it has ended."""

    id: str
    created_at: datetime
    created_monotonic: float
    results: list[tuple[str, dict[str, Any]]]  # (custom_id, result), in request order
    polls: int = 0
    cancel_initiated_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def status(self) -> str:
        if self.ended_at is not None:
            return "ended"
        return "canceling" if self.cancel_initiated_at is not None else "in_progress"


class _Answered(Exception):
    """Raised by request handlers to answer an error at once."""

    def __init__(self, status: int, error_type: str | None = None, message: str = "") -> None:
        super().__init__(message)
        default_type, default_message = ERROR_TYPES.get(status, ("api_error", "Error"))
        self.status = status
        self.error_type = error_type or default_type
        self.message = message or default_message


class FakeAnthropic:
    """The fake server. ``with FakeAnthropic() as fake`` (background thread) or
    ``async with FakeAnthropic() as fake`` (the running loop); ``fake.base_url`` to connect.

    ``reply`` fixes the answer text; ``output_tokens`` fixes the reported output tokens
    (default: a quarter of the text's characters); a stream sends the text in
    ``stream_chunks`` deltas, ``chunk_delay_s`` apart. ``keep_requests`` bounds the request
    log (benchmarks); ``None`` keeps every request. A Message Batch ends on its
    ``batch_polls``-th retrieve or ``batch_seconds`` after its creation, whichever comes first
    (see the module docstring).
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        rates: Mapping[int | str, float] | None = None,
        api_key: str | None = None,
        reply: str | None = None,
        output_tokens: int | None = None,
        stream_chunks: int = 4,
        chunk_delay_s: float = 0.0,
        models: Sequence[str] = DEFAULT_MODELS,
        keep_requests: int | None = None,
        batch_polls: int | None = 2,
        batch_seconds: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        responder: Responder | None = None,
    ) -> None:
        if batch_polls is not None and batch_polls < 1:
            raise ValueError(f"batch_polls must be >= 1 or None, got {batch_polls}")
        self._batch_polls = batch_polls
        self._batch_seconds = batch_seconds
        self._batches: dict[str, _Batch] = {}
        self._rates = _check_rates(rates or {})
        self._seed = seed
        self._rng = random.Random(seed)
        self._api_key = api_key
        self._reply_text = reply
        self._output_tokens = output_tokens
        self._stream_chunks = max(1, stream_chunks)
        self._chunk_delay_s = chunk_delay_s
        self._models = tuple(models)
        self._host = host
        self._requested_port = port
        self._lock = threading.Lock()
        self._script: list[Fault] = []
        self._responder = responder
        self._log: deque[RecordedRequest] = deque(maxlen=keep_requests)
        self._cache: set[str] = set()
        self._ids = itertools.count(1)
        self._connections = 0
        self._port: int | None = None
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread_error: BaseException | None = None

    # -- what tests use ------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeAnthropic is not running: use `with FakeAnthropic() as fake`")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._log)

    @property
    def pending(self) -> int:
        """How many scripted faults are still to be consumed."""
        with self._lock:
            return len(self._script)

    @property
    def connections(self) -> int:
        """How many TCP connections were accepted (keep-alive reuses them)."""
        return self._connections

    def enqueue(self, *faults: Fault) -> None:
        """Script the answers of the next message requests, in order."""
        with self._lock:
            self._script.extend(faults)

    def reset(self) -> None:
        """Forget the script, the request log, the prompt cache and the Message Batches;
        reseed the random faults."""
        with self._lock:
            self._script.clear()
            self._log.clear()
            self._cache.clear()
            self._batches.clear()
            self._rng = random.Random(self._seed)

    # -- running in a background thread -----------------------------------------------------

    def start(self) -> Self:
        """Serve from a background thread with its own event loop; returns once listening."""
        if self._thread is not None or self._server is not None:
            raise RuntimeError("FakeAnthropic is already running")
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._thread_main, args=(ready,), name="fake-anthropic", daemon=True
        )
        self._thread.start()
        ready.wait()
        if self._thread_error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError("FakeAnthropic could not start") from self._thread_error
        return self

    def stop(self) -> None:
        """Stop the background server; open connections are dropped."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None or loop is None or stop_event is None:
            return
        loop.call_soon_threadsafe(stop_event.set)
        thread.join()
        self._thread = self._loop = self._stop_event = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _thread_main(self, ready: threading.Event) -> None:
        async def main() -> None:
            try:
                await self.astart()
            except BaseException as exc:
                self._thread_error = exc
                ready.set()
                return
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            ready.set()
            await self._stop_event.wait()
            await self.astop()

        try:
            asyncio.run(main())
        except BaseException as exc:  # never leave start() waiting
            self._thread_error = self._thread_error or exc
        finally:
            ready.set()

    # -- running on the caller's loop -------------------------------------------------------

    async def astart(self) -> Self:
        """Serve on the running event loop."""
        if self._server is not None:
            raise RuntimeError("FakeAnthropic is already running")
        self._server = await asyncio.start_server(
            self._handle, self._host, self._requested_port, limit=_HEAD_LIMIT, backlog=1024
        )
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def astop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
        self._port = None

    async def __aenter__(self) -> Self:
        return await self.astart()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()

    # -- HTTP/1.1 ---------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._connections += 1
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            # Cancelled by astop(). Ended quietly: on 3.11 the streams callback calls
            # task.exception() on its task, which raises (and logs) for a cancelled one.
            pass
        finally:
            writer.close()
            if task is not None:
                self._handlers.discard(task)

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read and answer one request; ``False`` when the connection is to be closed."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            await _send(writer, _response(400, [], b""))
            return False
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", ""):
            writer.write(_response(501, [], b""))
            return False
        length = int(headers.get("content-length") or 0)
        raw = await reader.readexactly(length) if length else b""
        url = urlsplit(target)
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        request = _Incoming(method, url.path, dict(parse_qsl(url.query)), headers, raw)
        return await self._answer(request, writer) and keep_alive

    async def _answer(self, request: _Incoming, writer: asyncio.StreamWriter) -> bool:
        body: Any = None
        fault: Fault | None = None
        try:
            if request.raw:
                try:
                    body = json.loads(request.raw)
                except ValueError:
                    raise _Answered(400, message="The request body is not valid JSON") from None
            self._check_key(request.headers)
            if request.path == _BATCHES_PATH or request.path.startswith(_BATCHES_PATH + "/"):
                return await self._batch_api(request, body, writer)
            if request.path in ("/v1/messages", "/v1/messages/count_tokens"):
                if request.method != "POST":
                    raise _Answered(405, "invalid_request_error", "Method not allowed")
                _validate(
                    body,
                    count_only=request.path.endswith("count_tokens"),
                    betas=request.headers.get("anthropic-beta", ""),
                )
                if request.path.endswith("count_tokens"):
                    payload = {"input_tokens": _tokens(_prompt_chars(body))}
                    self._record(request, body, None, 200)
                    await _send(writer, _json_response(200, payload, self._request_id()))
                    return True
                fault = self._choose_fault(body["model"], body)
                return await self._messages(request, body, fault, writer)
            if request.method == "GET" and request.path.startswith("/v1/models"):
                payload = self._models_payload(request.path.removeprefix("/v1/models"))
                self._record(request, body, None, 200)
                await _send(writer, _json_response(200, payload, self._request_id()))
                return True
            raise _Answered(404, message=f"Not found: {request.method} {request.path}")
        except _Answered as answer:
            self._record(request, body, fault, answer.status)
            rid = self._request_id()
            await _send(
                writer, _error_response(answer.status, answer.error_type, answer.message, rid)
            )
            return True

    def _check_key(self, headers: Mapping[str, str]) -> None:
        if self._api_key is None:
            return
        given = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if given != self._api_key:
            raise _Answered(401)

    def _record(self, request: _Incoming, body: Any, fault: Fault | None, status: int) -> None:
        entry = RecordedRequest(
            request.method, request.path, request.query, request.headers, body, fault, status
        )
        with self._lock:
            self._log.append(entry)

    def _request_id(self) -> str:
        return f"req_fake{next(self._ids):016x}"

    # -- faults -----------------------------------------------------------------------------

    def _choose_fault(self, model: str, body: Mapping[str, Any]) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._script):
                if fault.model is None or fault.model == model:
                    del self._script[index]
                    return fault
            if self._responder is not None:
                answer = self._responder(body)
                if answer is not None:
                    return answer
            magic = _magic_fault(model)
            if magic is not None:
                return magic
            if self._rates:
                roll, total = self._rng.random(), 0.0
                for key, rate in self._rates.items():
                    total += rate
                    if roll < total:
                        return _rate_fault(key)
        return None

    async def _messages(
        self,
        request: _Incoming,
        body: dict[str, Any],
        fault: Fault | None,
        writer: asyncio.StreamWriter,
    ) -> bool:
        stream = body.get("stream") is True
        kind = fault.kind if fault else "ok"
        if (kind == "stream_error" and not stream) or kind == "expired":
            kind = "status"
        if fault is not None and kind == "status":
            self._record(request, body, fault, fault.status_code)
            await _sleep(fault.delay_s)
            extra = list(fault.headers)
            if fault.retry_after is not None:
                extra.append(("retry-after", _retry_after_text(fault.retry_after)))
            error_type, message = fault.error_type or "api_error", fault.message or ""
            rid = self._request_id()
            await _send(writer, _error_response(fault.status_code, error_type, message, rid, extra))
            return True
        if fault is not None and kind == "reset" and not fault.mid_body:
            self._record(request, body, fault, 0)
            await _sleep(fault.delay_s)
            _abort(writer)
            return False
        reply = self._reply(body, fault)
        self._record(request, body, fault, 0 if kind == "reset" else 200)
        await _sleep(fault.delay_s if fault else 0.0)
        rid = self._request_id()
        if not stream:
            data = _json_response(200, _message_json(reply), rid)
            if kind == "reset":
                body_at = data.index(b"\r\n\r\n") + 4
                await _send(writer, data[: body_at + (len(data) - body_at) // 2])
                _abort(writer)
                return False
            await _send(writer, data)
            return True
        return await self._stream(reply, fault if kind != "ok" else None, rid, writer)

    # -- answers ----------------------------------------------------------------------------

    def _reply(self, body: dict[str, Any], fault: Fault | None) -> _Reply:
        number = next(self._ids)
        model = body["model"]
        scripted = fault is not None and fault.kind == "ok"
        text = fault.text if fault and fault.text is not None else self._default_text(body)
        stop_reason = "end_turn"
        if fault is not None and fault.content is not None:
            content = [dict(block) for block in fault.content]
            for index, block in enumerate(content):
                if block.get("type") == "tool_use":
                    block.setdefault("id", f"toolu_fake{number:012x}{index:02d}")
                    block.setdefault("input", {})
                    stop_reason = "tool_use"
        else:
            max_chars = body["max_tokens"] * 4
            if not scripted and len(text) > max_chars:
                text, stop_reason = text[:max_chars], "max_tokens"
            content = [{"type": "text", "text": text}]
        usage = self._usage(body, content)
        if fault is not None and fault.usage is not None:
            for key, value in fault.usage.items():
                if value is None:
                    usage.pop(key, None)
                else:
                    usage[key] = value
        if fault is not None and fault.stop_reason is not None:
            stop_reason = fault.stop_reason
        return _Reply(f"msg_fake{number:016x}", model, content, stop_reason, usage)

    def _default_text(self, body: dict[str, Any]) -> str:
        if self._reply_text is not None:
            return self._reply_text
        said = ""
        for message in reversed(body["messages"]):
            if message.get("role") == "user":
                said = " ".join(_block_text(message.get("content")).split())[:200]
                break
        return f"Fake reply from {body['model']}. You said: {said}"

    def _usage(self, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, Any]:
        total = _tokens(_prompt_chars(body))
        cached, ttl = _cached_prefix(body)
        created = read = 0
        if cached is not None:
            key, chars = cached
            with self._lock:
                hit = key in self._cache
                self._cache.add(key)
            prefix = min(total, _tokens(chars))
            read, created = (prefix, 0) if hit else (0, prefix)
        out_chars = sum(len(_block_text(block)) for block in content)
        output = self._output_tokens if self._output_tokens is not None else _tokens(out_chars)
        return {
            "input_tokens": total - created - read,
            "output_tokens": output,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": created if ttl != "1h" else 0,
                "ephemeral_1h_input_tokens": created if ttl == "1h" else 0,
            },
        }

    def _models_payload(self, rest: str) -> dict[str, Any]:
        entries = [
            {
                "type": "model",
                "id": model,
                "display_name": model.replace("-", " ").title(),
                "created_at": "2026-01-01T00:00:00Z",
            }
            for model in self._models
        ]
        if rest.strip("/"):
            found = [entry for entry in entries if entry["id"] == rest.strip("/")]
            if not found:
                raise _Answered(404, message=f"model: {rest.strip('/')}")
            return found[0]
        first = entries[0]["id"] if entries else None
        last = entries[-1]["id"] if entries else None
        return {"data": entries, "has_more": False, "first_id": first, "last_id": last}

    # -- Message Batches --------------------------------------------------------------------

    async def _batch_api(self, request: _Incoming, body: Any, writer: asyncio.StreamWriter) -> bool:
        """Create, list, retrieve, cancel, delete a Message Batch, or download its results."""
        batch_id, _, action = request.path.removeprefix(_BATCHES_PATH).strip("/").partition("/")
        route = (request.method, "id" if batch_id else "", action)
        rid = self._request_id()
        if route == ("POST", "", ""):
            payload = self._batch_json(self._create_batch(body), request)
        elif route == ("GET", "", ""):
            payload = self._list_batches(request)
        elif route == ("GET", "id", ""):
            payload = self._batch_json(
                self._advance(self._find_batch(batch_id), poll=True), request
            )
        elif route == ("POST", "id", "cancel"):
            payload = self._batch_json(self._cancel_batch(self._find_batch(batch_id)), request)
        elif route == ("DELETE", "id", ""):
            payload = self._delete_batch(self._find_batch(batch_id))
        elif route == ("GET", "id", "results"):
            lines = self._batch_results(self._find_batch(batch_id))
            self._record(request, body, None, 200)
            headers = [("content-type", "application/binary"), ("request-id", rid)]
            await _send(writer, _response(200, headers, lines))
            return True
        else:
            raise _Answered(404, message=f"Not found: {request.method} {request.path}")
        self._record(request, body, None, 200)
        await _send(writer, _json_response(200, payload, rid))
        return True

    def _create_batch(self, body: Any) -> _Batch:
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise _Answered(400, message="requests: Field required (a non-empty list)")
        if len(requests) > _MAX_BATCH_REQUESTS:
            raise _Answered(400, message=f"requests: at most {_MAX_BATCH_REQUESTS} per batch")
        seen: set[str] = set()
        for index, item in enumerate(requests):
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not _CUSTOM_ID.fullmatch(custom_id):
                raise _Answered(
                    400,
                    message=f"requests.{index}.custom_id: 1-64 letters, digits, '_' or '-'",
                )
            if custom_id in seen:
                raise _Answered(
                    400, message=f"requests.{index}.custom_id: {custom_id!r} is not unique"
                )
            seen.add(custom_id)
            if not isinstance(item.get("params"), dict):
                raise _Answered(400, message=f"requests.{index}.params: Field required")
        results = [(item["custom_id"], self._batch_result(item["params"])) for item in requests]
        now = datetime.now(UTC)
        batch = _Batch(f"msgbatch_fake{next(self._ids):016x}", now, time.monotonic(), results)
        with self._lock:
            self._batches[batch.id] = batch
        return batch

    def _batch_result(self, params: dict[str, Any]) -> dict[str, Any]:
        """What one request of a batch gets: what ``/v1/messages`` would answer, as a result."""
        try:
            _validate(params, count_only=False)
            if params.get("stream") is True:
                raise _Answered(400, message="stream: a Message Batch request cannot stream")
        except _Answered as answer:
            return _errored(answer.error_type, answer.message)
        fault = self._choose_fault(params["model"], params)
        if fault is not None and fault.kind == "expired":
            return {"type": "expired"}
        if fault is not None and fault.kind in ("status", "stream_error"):
            return _errored(fault.error_type or "api_error", fault.message or "Error")
        if fault is not None and fault.kind == "reset":
            return _errored(*ERROR_TYPES[500])
        return {"type": "succeeded", "message": _message_json(self._reply(params, fault))}

    def _find_batch(self, batch_id: str) -> _Batch:
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None:
            raise _Answered(404, message=f"message_batch_id: no Message Batch {batch_id!r}")
        return batch

    def _advance(self, batch: _Batch, *, poll: bool) -> _Batch:
        """End ``batch`` when its time has come (a retrieve counts as a poll)."""
        if batch.ended_at is not None:
            return batch
        if poll:
            batch.polls += 1
        polled = self._batch_polls is not None and batch.polls >= self._batch_polls
        aged = self._batch_seconds is not None and (
            time.monotonic() - batch.created_monotonic >= self._batch_seconds
        )
        canceled = batch.cancel_initiated_at is not None
        if (canceled and poll) or (not canceled and (polled or aged)):
            if canceled:
                batch.results = [
                    (custom_id, {"type": "canceled"}) for custom_id, _ in batch.results
                ]
            batch.ended_at = datetime.now(UTC)
        return batch

    def _cancel_batch(self, batch: _Batch) -> _Batch:
        self._advance(batch, poll=False)
        if batch.ended_at is None and batch.cancel_initiated_at is None:
            batch.cancel_initiated_at = datetime.now(UTC)
        return batch

    def _delete_batch(self, batch: _Batch) -> dict[str, Any]:
        if self._advance(batch, poll=False).ended_at is None:
            raise _Answered(
                400, message=f"Message Batch {batch.id} is {batch.status}: cancel it first"
            )
        with self._lock:
            self._batches.pop(batch.id, None)
        return {"id": batch.id, "type": "message_batch_deleted"}

    def _batch_results(self, batch: _Batch) -> bytes:
        if self._advance(batch, poll=False).ended_at is None:
            raise _Answered(
                400,
                message=f"Message Batch {batch.id} is {batch.status}: "
                "its results are available once processing_status is 'ended'",
            )
        lines = [
            json.dumps({"custom_id": custom_id, "result": result}, separators=(",", ":")) + "\n"
            for custom_id, result in batch.results
        ]
        return "".join(lines).encode()

    def _list_batches(self, request: _Incoming) -> dict[str, Any]:
        with self._lock:
            newest_first = list(reversed(self._batches.values()))
        try:
            limit = int(request.query.get("limit", "20"))
        except ValueError:
            raise _Answered(400, message="limit: Input should be a valid integer") from None
        if not 1 <= limit <= 1000:
            raise _Answered(400, message="limit: Input should be between 1 and 1000")
        ids = [batch.id for batch in newest_first]
        after, before = request.query.get("after_id"), request.query.get("before_id")
        if before is not None:
            end = ids.index(before) if before in ids else 0
            page, has_more = newest_first[max(0, end - limit) : end], end > limit
        else:
            start = ids.index(after) + 1 if after in ids else 0 if after is None else len(ids)
            page, has_more = newest_first[start : start + limit], start + limit < len(ids)
        data = [self._batch_json(self._advance(batch, poll=False), request) for batch in page]
        return {
            "data": data,
            "has_more": has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }

    def _batch_json(self, batch: _Batch, request: _Incoming) -> dict[str, Any]:
        """The batch as the API shows it; ``results_url`` points back at the server asked."""
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        results_url = None
        if batch.ended_at is None:
            counts["processing"] = len(batch.results)
        else:
            for _, result in batch.results:
                counts[result["type"]] += 1
            host = request.headers.get("host") or f"{self._host}:{self.port}"
            results_url = f"http://{host}{_BATCHES_PATH}/{batch.id}/results"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "ended_at": _rfc3339(batch.ended_at),
            "created_at": _rfc3339(batch.created_at),
            "expires_at": _rfc3339(batch.created_at + _BATCH_LIFETIME),
            "archived_at": None,
            "cancel_initiated_at": _rfc3339(batch.cancel_initiated_at),
            "results_url": results_url,
        }

    async def _stream(
        self, reply: _Reply, fault: Fault | None, rid: str, writer: asyncio.StreamWriter
    ) -> bool:
        """Send ``reply`` as SSE, event by event (chunked encoding); apply a mid-stream fault."""
        head = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            ("transfer-encoding", "chunked"),
            ("request-id", rid),
        ]
        writer.write(_head(200, head))
        deltas = 0
        for name, data in _sse_events(reply, self._stream_chunks):
            is_delta = name == "content_block_delta"
            # a fault strikes after `after_deltas` deltas, or before the end when there are fewer
            strike = (
                (is_delta and fault is not None and deltas >= fault.after_deltas)
                or name == "message_delta"
                or (name == "message_start" and fault is not None and fault.after_deltas < 0)
            )
            if fault is not None and strike and fault.kind == "reset":
                await writer.drain()
                _abort(writer)
                return False
            if fault is not None and strike and fault.kind == "stream_error":
                error = {"type": fault.error_type, "message": fault.message}
                writer.write(_chunk("error", {"type": "error", "error": error}))
                break
            if is_delta:
                deltas += 1
                if self._chunk_delay_s > 0:
                    await writer.drain()
                    await asyncio.sleep(self._chunk_delay_s)
            writer.write(_chunk(name, data))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


@dataclass(frozen=True, slots=True)
class _Incoming:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes


def fake_anthropic_server(fake: FakeAnthropic | None = None) -> Iterator[FakeAnthropic]:
    """The body of a pytest fixture: runs ``fake`` (a default one if ``None``) and stops it::

    @pytest.fixture
    def fake() -> Iterator[FakeAnthropic]:
        yield from fake_anthropic_server(FakeAnthropic(seed=1))
    """
    with fake or FakeAnthropic() as running:
        yield running


# -- pure helpers ---------------------------------------------------------------------------


def _check_rates(rates: Mapping[int | str, float]) -> dict[int | str, float]:
    for key, rate in rates.items():
        if not (isinstance(key, int) and key >= 400) and key not in ("reset", "stream_error"):
            raise ValueError(f"rates: {key!r} is not an error status, 'reset' or 'stream_error'")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rates: {key!r} has rate {rate}, expected a value in [0, 1]")
    if sum(rates.values()) > 1.0:
        raise ValueError(f"rates: they add up to {sum(rates.values())}, more than 1")
    return dict(rates)


def _rate_fault(key: int | str) -> Fault:
    if key == "reset":
        return Fault.reset()
    if key == "stream_error":
        return Fault.stream_error()
    assert isinstance(key, int)
    return Fault.status(key, retry_after=1 if key == 429 else None)


def _magic_fault(model: str) -> Fault | None:
    if not model.startswith("fake-"):
        return None
    name = model.removeprefix("fake-")
    if name == "reset":
        return Fault.reset()
    if name == "reset-mid":
        return Fault.reset(mid_body=True)
    if name.startswith("slow-"):
        with contextlib.suppress(ValueError):
            return Fault.slow_first_byte(float(name.removeprefix("slow-")))
        return None
    if name == "stream-error" or name.startswith("stream-error-"):
        return Fault.stream_error(
            name.removeprefix("stream-error").lstrip("-") or "overloaded_error"
        )
    if name == "429-no-retry-after":
        return Fault.status(429)
    if name.isdigit() and len(name) == 3 and int(name) >= 400:
        return Fault.status(int(name), retry_after=1 if name == "429" else None)
    return None


def _validate(body: Any, *, count_only: bool, betas: str = "") -> None:
    if not isinstance(body, dict):
        raise _Answered(400, message="The request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _Answered(400, message="model: Field required")
    if not count_only:
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            raise _Answered(400, message="max_tokens: Field required")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 0:
            raise _Answered(400, message="max_tokens: Input should be a non-negative integer")
        if "stream" in body and not isinstance(body["stream"], bool):
            raise _Answered(400, message="stream: Input should be a valid boolean")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _Answered(400, message="messages: Field required (a non-empty list)")
    # Claude Code's per-turn-control beta admits ``role: "system"`` turns (it sends them)
    roles = ("user", "assistant", "system") if _PER_TURN_BETA in betas else ("user", "assistant")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in roles:
            raise _Answered(
                400,
                message=f"messages.{index}.role: Input should be {' or '.join(map(repr, roles))}",
            )
        if not isinstance(message.get("content"), str | list):
            raise _Answered(400, message=f"messages.{index}.content: Field required")


def _block_text(block: Any) -> str:
    """The text a block contributes to a token count."""
    if isinstance(block, str):
        return block
    if isinstance(block, list):
        return "".join(_block_text(item) for item in block)
    if isinstance(block, dict):
        if block.get("type") == "text":
            return str(block.get("text", ""))
        if block.get("type") == "tool_use":
            return json.dumps(block.get("input", {}))
        if block.get("type") == "tool_result":
            return _block_text(block.get("content", ""))
        return json.dumps({k: v for k, v in block.items() if k != "cache_control"})
    return ""


def _pieces(body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The prompt in cache order (tools, system, messages): each piece's text and marker."""
    for tool in body.get("tools") or []:
        yield _block_text(tool), tool.get("cache_control") if isinstance(tool, dict) else None
    system = body.get("system")
    # a new list: the request's own ``system`` list (kept in fake.requests) must not grow
    blocks = (
        [system] if isinstance(system, str) else list(system) if isinstance(system, list) else []
    )
    for message in body.get("messages") or []:
        content = message.get("content")
        blocks.extend([content] if isinstance(content, str) else content)
    for block in blocks:
        yield _block_text(block), block.get("cache_control") if isinstance(block, dict) else None


def _prompt_chars(body: dict[str, Any]) -> int:
    return sum(len(text) for text, _ in _pieces(body))


def _tokens(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


def _cached_prefix(body: dict[str, Any]) -> tuple[tuple[str, int] | None, str]:
    """((cache key, characters) of the prefix up to the last ``cache_control``, ttl)."""
    pieces = list(_pieces(body))
    marked = [i for i, (_, marker) in enumerate(pieces) if isinstance(marker, dict)]
    if isinstance(body.get("cache_control"), dict) and pieces:
        marked.append(len(pieces) - 1)
        marker: Any = body["cache_control"]
    elif marked:
        marker = pieces[marked[-1]][1]
    else:
        return None, "5m"
    prefix = [text for text, _ in pieces[: marked[-1] + 1]]
    digest = hashlib.sha256(json.dumps([body["model"], prefix]).encode()).hexdigest()
    return (digest, sum(len(text) for text in prefix)), str(marker.get("ttl", "5m"))


def _errored(error_type: str, message: str) -> dict[str, Any]:
    """An ``errored`` result of a Message Batch request."""
    return {
        "type": "errored",
        "error": {"type": "error", "error": {"type": error_type, "message": message}},
    }


def _rfc3339(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _message_json(reply: _Reply) -> dict[str, Any]:
    return {
        "id": reply.message_id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": reply.content,
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": reply.usage,
    }


def _split(text: str, parts: int) -> list[str]:
    if not text:
        return []
    size = math.ceil(len(text) / min(parts, len(text)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _sse_events(reply: _Reply, chunks: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events of a streamed answer, in the order the Messages API sends them."""
    start_usage = {k: v for k, v in reply.usage.items() if k != "output_tokens"}
    message = {**_message_json(reply), "content": [], "stop_reason": None}
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {**message, "usage": {**start_usage, "output_tokens": 1}},
        },
    )
    for index, block in enumerate(reply.content):
        if block.get("type") == "tool_use":
            start = {**block, "input": {}}
            pieces = [
                ("input_json_delta", "partial_json", p)
                for p in _split(json.dumps(block["input"]), chunks)
            ]
        else:
            start = {"type": "text", "text": ""}
            pieces = [("text_delta", "text", p) for p in _split(str(block.get("text", "")), chunks)]
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
        if index == 0:
            yield "ping", {"type": "ping"}
        for delta_type, field_name, piece in pieces:
            delta = {"type": delta_type, field_name: piece}
            yield (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    ending = {"stop_reason": reply.stop_reason, "stop_sequence": None}
    usage = {"output_tokens": reply.usage.get("output_tokens", 0)}
    yield "message_delta", {"type": "message_delta", "delta": ending, "usage": usage}
    yield "message_stop", {"type": "message_stop"}


def _chunk(event: str, data: Mapping[str, Any]) -> bytes:
    payload = f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _retry_after_text(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def _reason(status: int) -> str:
    if status == 529:
        return "Overloaded"
    with contextlib.suppress(ValueError):
        return http.HTTPStatus(status).phrase
    return "Error"


def _head(status: int, headers: Sequence[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_reason(status)}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _response(status: int, headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    return _head(status, [*headers, ("content-length", str(len(body)))]) + body


def _json_response(
    status: int, payload: Any, rid: str, extra: Sequence[tuple[str, str]] = ()
) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = [("content-type", "application/json"), ("request-id", rid), *extra]
    return _response(status, headers, body)


def _error_response(
    status: int,
    error_type: str,
    message: str,
    rid: str,
    extra: Sequence[tuple[str, str]] = (),
) -> bytes:
    payload = {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": rid,
    }
    retry = [("x-should-retry", "true")] if status in (408, 409, 429) or status >= 500 else []
    return _json_response(status, payload, rid, [*retry, *extra])


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed upstream or a middlebox would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def main(argv: Sequence[str] | None = None) -> None:
    """Serve in this process until Ctrl-C / SIGTERM; prints one JSON line with the ``base_url``
    once listening. Benchmarks run it apart from the client so that they do not share a GIL::

        python -c "from ctxrouter.testing.fake_anthropic import main; main()" --rate 529=0.1
    """
    parser = argparse.ArgumentParser(prog="ctxrouter-fake-anthropic")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="FAULT=RATE",
        help="a random fault, e.g. 529=0.2 or reset=0.01 (repeatable)",
    )
    parser.add_argument("--output-tokens", type=int, default=None)
    parser.add_argument("--keep-requests", type=int, default=1000)
    args = parser.parse_args(argv)
    rates: dict[int | str, float] = {}
    for item in args.rate:
        key, _, value = item.partition("=")
        rates[int(key) if key.isdigit() else key] = float(value)
    fake = FakeAnthropic(
        seed=args.seed,
        rates=rates,
        output_tokens=args.output_tokens,
        keep_requests=args.keep_requests,
        host=args.host,
        port=args.port,
    )

    async def serve() -> None:
        async with fake:
            print(json.dumps({"base_url": fake.base_url, "port": fake.port}), flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()

    asyncio.run(serve())


__all__ = [
    "DEFAULT_MODELS",
    "ERROR_TYPES",
    "FakeAnthropic",
    "Fault",
    "RecordedRequest",
    "fake_anthropic_server",
    "main",
]
