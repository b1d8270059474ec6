"""Which copy of an API response counts: ccusage 20.0.24's rule (``ccusage daily``), so both
count the same tokens. Pure: responses in, verdicts out.

Claude Code writes one line per content block of a response, each with the full usage; a
resumed session copies earlier lines into a new file; a side conversation (``/btw``) replays
its parent's messages under new request ids. Responses are offered in file order (files sorted
by path), and each is matched against the ones kept so far:

1. **same response**: the same message id and request id, in any session; a response without
   a request id matches the same message id in the same session at the same millisecond;
2. else **a replay**: the same message id in the same session, under another request id, when
   either of the two is a sidechain's (a subagent's, or a side conversation's);
3. else it is new. A response without a message id is always new.

When it matches, the better copy is kept: the main conversation's over a sidechain's, then the
one with more tokens in total, then the costlier one; on a tie the first stays. Responses
already in the store take part as the first copies (:meth:`Deduper.seed`), so importing
again, or importing only what was appended, keeps the same responses as importing everything
at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from ctxrouter.integrations.claude_code.responses import Response


class Verdict(Enum):
    NEW = "new"  # a response not seen before: a slot was made for it
    REPLACES = "replaces"  # a better copy of a kept response: it took its slot's place
    DUPLICATE = "duplicate"  # a copy that does not count


@dataclass(eq=False, slots=True)
class Slot:
    """One response that counts, and the copy of it that does."""

    response: Response
    agent: str
    cost: float | None
    stored_id: str | None = None  # the event id the store holds for it (None: not written)
    texts: list[str] = field(default_factory=list)  # its content blocks' text, in order
    prompt: str | None = None  # the user turn that led to it (only when text is asked for)

    @property
    def sidechain(self) -> bool:
        return self.response.sidechain


Key = tuple[str, ...]


def exact_key(response: Response) -> Key | None:
    """What makes two lines the same response (``None``: nothing, it has no message id)."""
    mid = response.message_id
    if mid is None:
        return None
    if response.request_id is not None:
        return ("request", mid, response.request_id)
    return ("moment", mid, response.session_id, str(response.ts_ms))


class Deduper:
    """The responses kept so far, indexed for the three matches."""

    def __init__(self, cost: Callable[[Response], float | None]) -> None:
        """``cost`` prices a copy: it breaks ties between copies with as many tokens."""
        self._cost = cost
        self._exact: dict[Key, list[Slot]] = {}  # a key may file several (see _same)
        # (message id, session) -> (slot, the session it was filed under when it is an alias)
        self._routes: dict[tuple[str, str], list[tuple[Slot, str | None]]] = {}

    def seed(self, slot: Slot) -> None:
        """Take a stored response as a first copy (no-op for one without a message id)."""
        key = exact_key(slot.response)
        if key is not None and self._same(key, slot.response) is None:
            self._index(key, slot)

    def offer(self, response: Response, agent: str) -> tuple[Verdict, Slot]:
        """Match ``response`` against the kept ones; a better copy takes the slot's place."""
        key = exact_key(response)
        if key is None:
            return Verdict.NEW, self._new(response, agent)
        mid, session = key[1], response.session_id
        slot = self._same(key, response)
        exact = slot is not None
        if slot is None:
            slot = self._replayed(mid, session, response.sidechain)
        if slot is None:
            made = self._new(response, agent)
            self._index(key, made)
            return Verdict.NEW, made
        if slot.response.session_id != session:  # a copy in another session: file both
            for name in (session, slot.response.session_id):
                self._routes.setdefault((mid, name), []).append((slot, name))
        if exact and response.texts:  # another block of the answer (not a copy's repeat)
            slot.texts.extend(t for t in response.texts if t not in slot.texts)
        if not self._better(response, slot):
            return Verdict.DUPLICATE, slot
        moved = slot.response.session_id != session or slot.sidechain != response.sidechain
        slot.response, slot.agent = response, agent
        slot.cost = self._cost(response)
        if not exact:
            slot.texts = list(response.texts)
        filed = self._exact.setdefault(key, [])
        if slot not in filed:
            filed.append(slot)
        if moved:
            self._routes.setdefault((mid, session), []).append((slot, None))
        return Verdict.REPLACES, slot

    def _new(self, response: Response, agent: str) -> Slot:
        return Slot(response, agent, self._cost(response), texts=list(response.texts))

    def _same(self, key: Key, response: Response) -> Slot | None:
        """The slot of the same response: filed under ``key`` and, as its copy now stands,
        still of this message and request (and moment, without a request id). A slot whose
        copy a replay under another request id replaced no longer matches its old key."""
        for slot in self._exact.get(key, ()):
            kept = slot.response
            same = kept.message_id == response.message_id and kept.request_id == response.request_id
            if same and (
                response.request_id is not None
                or (kept.session_id == response.session_id and kept.ts_ms == response.ts_ms)
            ):
                return slot
        return None

    def _index(self, key: Key, slot: Slot) -> None:
        self._exact.setdefault(key, []).append(slot)
        mid = slot.response.message_id
        assert mid is not None  # a keyed response has one
        self._routes.setdefault((mid, slot.response.session_id), []).append((slot, None))

    def _replayed(self, mid: str, session: str, sidechain: bool) -> Slot | None:
        for slot, alias in self._routes.get((mid, session), ()):
            if (
                slot.response.message_id == mid
                and (alias or slot.response.session_id) == session
                and (sidechain or slot.sidechain)
            ):
                return slot
        return None

    def _better(self, candidate: Response, slot: Slot) -> bool:
        """ccusage's order: main over sidechain, more tokens, higher cost; ties keep the first."""
        kept = slot.response
        if candidate.sidechain != kept.sidechain:
            return kept.sidechain
        if candidate.total_tokens != kept.total_tokens:
            return candidate.total_tokens > kept.total_tokens
        if candidate.tokens == kept.tokens and candidate.model == kept.model:
            return False  # the same copy: its cost is the same
        return (self._cost(candidate) or 0.0) > (slot.cost or 0.0)


__all__ = ["Deduper", "Slot", "Verdict", "exact_key"]
