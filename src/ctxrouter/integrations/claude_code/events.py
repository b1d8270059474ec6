"""A counted response as an event of the store, and a stored event as a counted response again
(so that responses stored by an earlier import take part in the dedupe). Pure.

An event: provider ``claude-code``; agent ``main`` for the main conversation, the subagent's
name (``attributionAgent``, else its meta file's ``agentType``) for a subagent's; model, tier
(from the registry), tokens, cost priced on the UTC day of the response (``None`` for a model
the registry cannot price: listed as unpriced, never counted as $0), session, request and
message ids, time. Prompt and answer text only when asked for (the text of the user turn that
led to the response, and of the response's text blocks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from ctxrouter.integrations.claude_code.dedupe import Slot, exact_key
from ctxrouter.integrations.claude_code.responses import Response
from ctxrouter.integrations.claude_code.summary import SOURCE
from ctxrouter.models.bulk_pricing import Pricer
from ctxrouter.telemetry.event import Event, Outcome, sha256

MAIN_AGENT: Final = "main"
SUBAGENT: Final = "subagent"  # a subagent whose name its transcript does not say
UNKNOWN_MODEL: Final = "unknown"  # a response whose line names no model
_DAY: Final = 86400


def event_id(response: Response, origin: str) -> str:
    """The id of a response's event: from its message and request ids (the same response in a
    resumed session's copy gets the same id); ``origin`` (file, line, hash) for a line that
    has no message id."""
    key = exact_key(response)
    basis = "\x1f".join(key) if key is not None else "origin\x1f" + origin
    return "cc-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def response_cost(pricer: Pricer, response: Response) -> float | None:
    """Its cost on the UTC day it was made; ``None`` when its model cannot be priced."""
    if response.model is None:
        return None
    return pricer.cost(
        response.model,
        int(response.ts // _DAY),
        response.tokens,
        fast=response.fast,
        us_only=response.us_only,
    )


def slot_event(
    slot: Slot, *, pricer: Pricer, categories: Mapping[str, str], with_text: bool
) -> Event:
    """The event of a counted response (its slot: the copy that counts, its agent and cost)."""
    response = slot.response
    eid = event_id(response, response.origin or "")
    model = response.model or UNKNOWN_MODEL
    text: dict[str, Any] = {}
    if with_text:
        answer = "\n".join(slot.texts)
        text = {
            "output_text": answer,
            "output_chars": len(answer),
            "output_sha256": sha256(answer),
        }
        if slot.prompt is not None:
            text.update(
                prompt_text=slot.prompt,
                prompt_chars=len(slot.prompt),
                prompt_sha256=sha256(slot.prompt),
            )
    return Event(
        event_id=eid,
        ts=response.ts,
        run_id=eid,
        agent=slot.agent,
        model=model,
        tier=pricer.tier(model),
        outcome=Outcome.SUCCESS,
        category=categories.get(slot.agent),
        provider=SOURCE,
        session_id=response.session_id,
        input_tokens=response.input_tokens,
        output_tokens=response.output_tokens,
        cache_creation_5m_tokens=response.cache_creation_5m_tokens,
        cache_creation_1h_tokens=response.cache_creation_1h_tokens,
        cache_read_tokens=response.cache_read_tokens,
        cost_usd=slot.cost,
        request_id=response.request_id,
        message_id=response.message_id,
        **text,
    )


def stored_slot(event: Event) -> Slot:
    """A stored event as the first copy of its response."""
    response = Response(
        line=0,
        message_id=event.message_id,
        request_id=event.request_id,
        session_id=event.session_id or "",
        ts=event.ts,
        ts_ms=round(event.ts * 1000),
        model=None if event.model == UNKNOWN_MODEL else event.model,
        sidechain=event.agent != MAIN_AGENT,
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cache_creation_5m_tokens=event.cache_creation_5m_tokens,
        cache_creation_1h_tokens=event.cache_creation_1h_tokens,
        cache_read_tokens=event.cache_read_tokens,
    )
    agent = event.agent or SUBAGENT
    slot = Slot(response, agent, event.cost_usd, stored_id=event.event_id)
    if event.output_text:
        slot.texts = event.output_text.split("\n")
    slot.prompt = event.prompt_text
    return slot


__all__ = [
    "MAIN_AGENT",
    "SUBAGENT",
    "UNKNOWN_MODEL",
    "event_id",
    "response_cost",
    "slot_event",
    "stored_slot",
]
