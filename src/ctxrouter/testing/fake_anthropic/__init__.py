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

**From the command line.** ``python -m ctxrouter.testing.fake_anthropic`` runs the server in a
process of its own (``--host``, default ``127.0.0.1``; ``--port``, default 0: any free port;
``--rate 529=0.2`` repeatable, ``--seed``, ``--api-key``, ``--reply``, ``--output-tokens``,
``--stream-chunks``, ``--chunk-delay``, ``--keep-requests``; ``--help`` for all). It prints the
base URL it listens on, one line, then serves until SIGINT or SIGTERM (exit status 0)::

    $ python -m ctxrouter.testing.fake_anthropic --rate 529=0.2 --seed 1
    http://127.0.0.1:41713

The modules, one job each: :mod:`~.server` (:class:`FakeAnthropic`: lifecycle, request log,
routing), :mod:`~.wire` (HTTP/1.1 and the Anthropic error format), :mod:`~.faults`
(:class:`Fault`, the magic models, the random rates), :mod:`~.messages` (validation, token
counts, the prompt cache, the answer), :mod:`~.sse` (streamed answers), :mod:`~.batches` (the
Message Batches API) and :mod:`~.cli` (the command line). What is exported here is the API.
"""

from ctxrouter.testing.fake_anthropic.cli import main
from ctxrouter.testing.fake_anthropic.faults import Fault, FaultKind, Responder
from ctxrouter.testing.fake_anthropic.server import (
    DEFAULT_MODELS,
    FakeAnthropic,
    RecordedRequest,
    fake_anthropic_server,
)
from ctxrouter.testing.fake_anthropic.wire import ERROR_TYPES

__all__ = [
    "DEFAULT_MODELS",
    "ERROR_TYPES",
    "FakeAnthropic",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "Responder",
    "fake_anthropic_server",
    "main",
]
