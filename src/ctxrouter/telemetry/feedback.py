"""Record a person's correction (or rating) of a run's result."""

from __future__ import annotations

import time
import uuid

from ctxrouter.errors import InputError
from ctxrouter.telemetry.event import Feedback
from ctxrouter.telemetry.store import EventQuery, Store


def record_feedback(
    store: Store,
    run_id: str,
    *,
    correction: str | None = None,
    rating: int | None = None,
    now: float | None = None,
) -> Feedback:
    """Store feedback on ``run_id`` (or the unique run whose id ends with it, as
    ``ctxrouter events`` shows them); the run must exist. Corrections feed routing."""
    if not (correction and correction.strip()) and rating is None:
        raise InputError("give a correction (--correction TEXT) or a rating (--rating 1..5)")
    if rating is not None and not 1 <= rating <= 5:
        raise InputError(f"rating must be 1 to 5, got {rating}")
    events = store.events(EventQuery(run_id=run_id, limit=1))
    if not events and len(run_id) >= 6:
        matches = store.runs_ending_with(run_id)
        if len(matches) > 1:
            raise InputError(f"run id {run_id!r} is ambiguous: give more of it")
        if matches:
            run_id = matches[0]
            events = store.events(EventQuery(run_id=run_id, limit=1))
    if not events:
        raise InputError(f"unknown run {run_id!r}: `ctxrouter events` lists recorded runs")
    feedback = Feedback(
        feedback_id=uuid.uuid4().hex,
        ts=time.time() if now is None else now,
        run_id=run_id,
        agent=events[0].agent,
        correction=correction.strip() if correction else None,
        rating=rating,
    )
    store.add_feedback(feedback)
    return feedback
