"""The Message Batches API: create, list, retrieve, cancel, delete a batch, download its results.

A batch is answered at once when it is created: each request in it gets what ``/v1/messages``
would answer (through the :class:`FaultPlan`), a failure becoming that request's result; the
batch then shows ``in_progress`` until it has been retrieved ``polls`` times or ``seconds``
have passed (see the package docstring).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ctxrouter.testing.fake_anthropic.faults import FaultPlan
from ctxrouter.testing.fake_anthropic.messages import Replies, validate
from ctxrouter.testing.fake_anthropic.wire import ERROR_TYPES, Answered, Incoming

BATCHES_PATH = "/v1/messages/batches"
_MAX_BATCH_REQUESTS = 100_000
_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_BATCH_LIFETIME = timedelta(hours=24)


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


class Batches:
    """The batches of one server. A batch ends on its ``polls``-th retrieve or ``seconds``
    after its creation, whichever comes first (``None`` turns a condition off)."""

    def __init__(
        self,
        *,
        faults: FaultPlan,
        replies: Replies,
        ids: Iterator[int],
        polls: int | None = 2,
        seconds: float | None = None,
    ) -> None:
        if polls is not None and polls < 1:
            raise ValueError(f"batch_polls must be >= 1 or None, got {polls}")
        self._faults = faults
        self._replies = replies
        self._ids = ids
        self._polls = polls
        self._seconds = seconds
        self._batches: dict[str, _Batch] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._batches.clear()

    def answer(self, request: Incoming, body: Any, host: str) -> dict[str, Any] | bytes:
        """The answer to a request under :data:`BATCHES_PATH`: a JSON payload, or the JSON
        Lines of the results. ``host`` (``host:port``) is where ``results_url`` points."""
        batch_id, _, action = request.path.removeprefix(BATCHES_PATH).strip("/").partition("/")
        route = (request.method, "id" if batch_id else "", action)
        if route == ("POST", "", ""):
            return self._json(self._create(body), host)
        if route == ("GET", "", ""):
            return self._list(request, host)
        if route == ("GET", "id", ""):
            return self._json(self._advance(self._find(batch_id), poll=True), host)
        if route == ("POST", "id", "cancel"):
            return self._json(self._cancel(self._find(batch_id)), host)
        if route == ("DELETE", "id", ""):
            return self._delete(self._find(batch_id))
        if route == ("GET", "id", "results"):
            return self._results(self._find(batch_id))
        raise Answered(404, message=f"Not found: {request.method} {request.path}")

    def _create(self, body: Any) -> _Batch:
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise Answered(400, message="requests: Field required (a non-empty list)")
        if len(requests) > _MAX_BATCH_REQUESTS:
            raise Answered(400, message=f"requests: at most {_MAX_BATCH_REQUESTS} per batch")
        seen: set[str] = set()
        for index, item in enumerate(requests):
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not _CUSTOM_ID.fullmatch(custom_id):
                raise Answered(
                    400,
                    message=f"requests.{index}.custom_id: 1-64 letters, digits, '_' or '-'",
                )
            if custom_id in seen:
                raise Answered(
                    400, message=f"requests.{index}.custom_id: {custom_id!r} is not unique"
                )
            seen.add(custom_id)
            if not isinstance(item.get("params"), dict):
                raise Answered(400, message=f"requests.{index}.params: Field required")
        results = [(item["custom_id"], self._result(item["params"])) for item in requests]
        now = datetime.now(UTC)
        batch = _Batch(f"msgbatch_fake{next(self._ids):016x}", now, time.monotonic(), results)
        with self._lock:
            self._batches[batch.id] = batch
        return batch

    def _result(self, params: dict[str, Any]) -> dict[str, Any]:
        """What one request of a batch gets: what ``/v1/messages`` would answer, as a result."""
        try:
            validate(params, count_only=False)
            if params.get("stream") is True:
                raise Answered(400, message="stream: a Message Batch request cannot stream")
        except Answered as answer:
            return _errored(answer.error_type, answer.message)
        fault = self._faults.choose(params["model"], params)
        if fault is not None and fault.kind == "expired":
            return {"type": "expired"}
        if fault is not None and fault.kind in ("status", "stream_error"):
            return _errored(fault.error_type or "api_error", fault.message or "Error")
        if fault is not None and fault.kind == "reset":
            return _errored(*ERROR_TYPES[500])
        return {"type": "succeeded", "message": self._replies.reply(params, fault).json()}

    def _find(self, batch_id: str) -> _Batch:
        with self._lock:
            batch = self._batches.get(batch_id)
        if batch is None:
            raise Answered(404, message=f"message_batch_id: no Message Batch {batch_id!r}")
        return batch

    def _advance(self, batch: _Batch, *, poll: bool) -> _Batch:
        """End ``batch`` when its time has come (a retrieve counts as a poll)."""
        if batch.ended_at is not None:
            return batch
        if poll:
            batch.polls += 1
        polled = self._polls is not None and batch.polls >= self._polls
        aged = self._seconds is not None and (
            time.monotonic() - batch.created_monotonic >= self._seconds
        )
        canceled = batch.cancel_initiated_at is not None
        if (canceled and poll) or (not canceled and (polled or aged)):
            if canceled:
                batch.results = [
                    (custom_id, {"type": "canceled"}) for custom_id, _ in batch.results
                ]
            batch.ended_at = datetime.now(UTC)
        return batch

    def _cancel(self, batch: _Batch) -> _Batch:
        self._advance(batch, poll=False)
        if batch.ended_at is None and batch.cancel_initiated_at is None:
            batch.cancel_initiated_at = datetime.now(UTC)
        return batch

    def _delete(self, batch: _Batch) -> dict[str, Any]:
        if self._advance(batch, poll=False).ended_at is None:
            raise Answered(
                400, message=f"Message Batch {batch.id} is {batch.status}: cancel it first"
            )
        with self._lock:
            self._batches.pop(batch.id, None)
        return {"id": batch.id, "type": "message_batch_deleted"}

    def _results(self, batch: _Batch) -> bytes:
        if self._advance(batch, poll=False).ended_at is None:
            raise Answered(
                400,
                message=f"Message Batch {batch.id} is {batch.status}: "
                "its results are available once processing_status is 'ended'",
            )
        lines = [
            json.dumps({"custom_id": custom_id, "result": result}, separators=(",", ":")) + "\n"
            for custom_id, result in batch.results
        ]
        return "".join(lines).encode()

    def _list(self, request: Incoming, host: str) -> dict[str, Any]:
        with self._lock:
            newest_first = list(reversed(self._batches.values()))
        try:
            limit = int(request.query.get("limit", "20"))
        except ValueError:
            raise Answered(400, message="limit: Input should be a valid integer") from None
        if not 1 <= limit <= 1000:
            raise Answered(400, message="limit: Input should be between 1 and 1000")
        ids = [batch.id for batch in newest_first]
        after, before = request.query.get("after_id"), request.query.get("before_id")
        if before is not None:
            end = ids.index(before) if before in ids else 0
            page, has_more = newest_first[max(0, end - limit) : end], end > limit
        else:
            start = ids.index(after) + 1 if after in ids else 0 if after is None else len(ids)
            page, has_more = newest_first[start : start + limit], start + limit < len(ids)
        data = [self._json(self._advance(batch, poll=False), host) for batch in page]
        return {
            "data": data,
            "has_more": has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }

    def _json(self, batch: _Batch, host: str) -> dict[str, Any]:
        """The batch as the API shows it; ``results_url`` points back at ``host``."""
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        results_url = None
        if batch.ended_at is None:
            counts["processing"] = len(batch.results)
        else:
            for _, result in batch.results:
                counts[result["type"]] += 1
            results_url = f"http://{host}{BATCHES_PATH}/{batch.id}/results"
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


def _errored(error_type: str, message: str) -> dict[str, Any]:
    """An ``errored`` result of a Message Batch request."""
    return {
        "type": "errored",
        "error": {"type": "error", "error": {"type": error_type, "message": message}},
    }


def _rfc3339(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
