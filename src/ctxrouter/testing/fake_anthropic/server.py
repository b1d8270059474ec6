"""The fake server: :class:`FakeAnthropic`, its lifecycle (a background thread, or the caller's
event loop), the request log, and the routing of each request to its answer."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

from ctxrouter.testing.fake_anthropic import wire
from ctxrouter.testing.fake_anthropic.batches import BATCHES_PATH, Batches
from ctxrouter.testing.fake_anthropic.faults import Fault, FaultPlan, Responder
from ctxrouter.testing.fake_anthropic.messages import Replies, input_tokens, validate
from ctxrouter.testing.fake_anthropic.sse import stream
from ctxrouter.testing.fake_anthropic.wire import Answered, Incoming

DEFAULT_MODELS = ("claude-opus-5", "claude-sonnet-5", "claude-sonnet-4-6", "claude-haiku-4-5")


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


class FakeAnthropic:
    """The fake server. ``with FakeAnthropic() as fake`` (background thread) or
    ``async with FakeAnthropic() as fake`` (the running loop); ``fake.base_url`` to connect.

    ``reply`` fixes the answer text; ``output_tokens`` fixes the reported output tokens
    (default: a quarter of the text's characters); a stream sends the text in
    ``stream_chunks`` deltas, ``chunk_delay_s`` apart. ``keep_requests`` bounds the request
    log (benchmarks); ``None`` keeps every request. A Message Batch ends on its
    ``batch_polls``-th retrieve or ``batch_seconds`` after its creation, whichever comes first
    (see the package docstring).
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
        ids = itertools.count(1)  # numbers request, message and batch ids alike
        self._faults = FaultPlan(seed=seed, rates=rates, responder=responder)
        self._replies = Replies(ids=ids, reply=reply, output_tokens=output_tokens)
        self._batches = Batches(
            faults=self._faults,
            replies=self._replies,
            ids=ids,
            polls=batch_polls,
            seconds=batch_seconds,
        )
        self._ids = ids
        self._api_key = api_key
        self._stream_chunks = max(1, stream_chunks)
        self._chunk_delay_s = chunk_delay_s
        self._models = tuple(models)
        self._host = host
        self._requested_port = port
        self._lock = threading.Lock()
        self._log: deque[RecordedRequest] = deque(maxlen=keep_requests)
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
        return self._faults.pending

    @property
    def connections(self) -> int:
        """How many TCP connections were accepted (keep-alive reuses them)."""
        return self._connections

    def enqueue(self, *faults: Fault) -> None:
        """Script the answers of the next message requests, in order."""
        self._faults.enqueue(*faults)

    def reset(self) -> None:
        """Forget the script, the request log, the prompt cache and the Message Batches;
        reseed the random faults."""
        self._faults.reset()
        with self._lock:
            self._log.clear()
        self._replies.reset()
        self._batches.reset()

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

    def __exit__(self, *exc_info: object) -> None:
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
            self._handle, self._host, self._requested_port, limit=wire.HEAD_LIMIT, backlog=1024
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

    async def __aexit__(self, *exc_info: object) -> None:
        await self.astop()

    # -- one connection, one request --------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._connections += 1
        try:
            while (request := await wire.read_request(reader, writer)) is not None:
                if not (await self._answer(request, writer) and request.keep_alive):
                    break
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

    async def _answer(self, request: Incoming, writer: asyncio.StreamWriter) -> bool:
        """Answer ``request``; ``False`` when the connection is to be closed."""
        body: Any = None
        fault: Fault | None = None
        try:
            if request.raw:
                try:
                    body = json.loads(request.raw)
                except ValueError:
                    raise Answered(400, message="The request body is not valid JSON") from None
            self._check_key(request.headers)
            if request.path == BATCHES_PATH or request.path.startswith(BATCHES_PATH + "/"):
                rid = self._request_id()
                host = request.headers.get("host") or f"{self._host}:{self.port}"
                answer = self._batches.answer(request, body, host)
                self._record(request, body, None, 200)
                if isinstance(answer, bytes):
                    headers = [("content-type", "application/binary"), ("request-id", rid)]
                    await wire.send(writer, wire.response(200, headers, answer))
                else:
                    await wire.send(writer, wire.json_response(200, answer, rid))
                return True
            if request.path in ("/v1/messages", "/v1/messages/count_tokens"):
                if request.method != "POST":
                    raise Answered(405, "invalid_request_error", "Method not allowed")
                count_only = request.path.endswith("count_tokens")
                betas = request.headers.get("anthropic-beta", "")
                validate(body, count_only=count_only, betas=betas)
                if count_only:
                    payload = {"input_tokens": input_tokens(body)}
                    self._record(request, body, None, 200)
                    await wire.send(writer, wire.json_response(200, payload, self._request_id()))
                    return True
                fault = self._faults.choose(body["model"], body)
                return await self._messages(request, body, fault, writer)
            if request.method == "GET" and request.path.startswith("/v1/models"):
                payload = self._models_payload(request.path.removeprefix("/v1/models"))
                self._record(request, body, None, 200)
                await wire.send(writer, wire.json_response(200, payload, self._request_id()))
                return True
            raise Answered(404, message=f"Not found: {request.method} {request.path}")
        except Answered as answer:
            self._record(request, body, fault, answer.status)
            rid = self._request_id()
            error = wire.error_response(answer.status, answer.error_type, answer.message, rid)
            await wire.send(writer, error)
            return True

    def _check_key(self, headers: Mapping[str, str]) -> None:
        if self._api_key is None:
            return
        given = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
        if given != self._api_key:
            raise Answered(401)

    def _record(self, request: Incoming, body: Any, fault: Fault | None, status: int) -> None:
        entry = RecordedRequest(
            request.method, request.path, request.query, request.headers, body, fault, status
        )
        with self._lock:
            self._log.append(entry)

    def _request_id(self) -> str:
        return f"req_fake{next(self._ids):016x}"

    async def _messages(
        self,
        request: Incoming,
        body: dict[str, Any],
        fault: Fault | None,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer a message request with ``fault`` (``None``: a normal answer)."""
        is_stream = body.get("stream") is True
        kind = fault.kind if fault else "ok"
        if (kind == "stream_error" and not is_stream) or kind == "expired":
            kind = "status"
        if fault is not None and kind == "status":
            self._record(request, body, fault, fault.status_code)
            await wire.sleep(fault.delay_s)
            extra = list(fault.headers)
            if fault.retry_after is not None:
                extra.append(("retry-after", wire.retry_after_text(fault.retry_after)))
            error_type, message = fault.error_type or "api_error", fault.message or ""
            rid = self._request_id()
            error = wire.error_response(fault.status_code, error_type, message, rid, extra)
            await wire.send(writer, error)
            return True
        if fault is not None and kind == "reset" and not fault.mid_body:
            self._record(request, body, fault, 0)
            await wire.sleep(fault.delay_s)
            wire.abort(writer)
            return False
        reply = self._replies.reply(body, fault)
        self._record(request, body, fault, 0 if kind == "reset" else 200)
        await wire.sleep(fault.delay_s if fault else 0.0)
        rid = self._request_id()
        if not is_stream:
            data = wire.json_response(200, reply.json(), rid)
            if kind == "reset":
                body_at = data.index(b"\r\n\r\n") + 4
                await wire.send(writer, data[: body_at + (len(data) - body_at) // 2])
                wire.abort(writer)
                return False
            await wire.send(writer, data)
            return True
        return await stream(
            writer,
            reply,
            fault if kind != "ok" else None,
            rid,
            chunks=self._stream_chunks,
            chunk_delay_s=self._chunk_delay_s,
        )

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
                raise Answered(404, message=f"model: {rest.strip('/')}")
            return found[0]
        first = entries[0]["id"] if entries else None
        last = entries[-1]["id"] if entries else None
        return {"data": entries, "has_more": False, "first_id": first, "last_id": last}


def fake_anthropic_server(fake: FakeAnthropic | None = None) -> Iterator[FakeAnthropic]:
    """The body of a pytest fixture: runs ``fake`` (a default one if ``None``) and stops it::

    @pytest.fixture
    def fake() -> Iterator[FakeAnthropic]:
        yield from fake_anthropic_server(FakeAnthropic(seed=1))
    """
    with fake or FakeAnthropic() as running:
        yield running
