"""Which copy of a response counts: ccusage 20.0.24's rule, case by case (each case was checked
against ``ccusage daily --json --offline`` on the same lines while writing it)."""

from __future__ import annotations

from ctxrouter.integrations.claude_code.dedupe import Deduper, Slot, Verdict, exact_key
from ctxrouter.integrations.claude_code.responses import Response

T0 = 1_795_685_069_692  # ms


def resp(
    mid: str | None = "msg_a",
    rid: str | None = "req_a",
    out: int = 10,
    *,
    inp: int = 0,
    session: str = "s1",
    side: bool = False,
    ms: int = T0,
    model: str = "claude-sonnet-5-5",
) -> Response:
    return Response(
        line=1,
        message_id=mid,
        request_id=rid,
        session_id=session,
        ts=ms / 1000,
        ts_ms=ms,
        model=model,
        sidechain=side,
        input_tokens=inp,
        output_tokens=out,
        cache_creation_5m_tokens=0,
        cache_creation_1h_tokens=0,
        cache_read_tokens=0,
    )


def price(r: Response) -> float:
    return r.input_tokens * 3 + r.output_tokens * 15  # per million, like sonnet: output dearer


def kept(*responses: Response) -> list[tuple[str | None, int]]:
    """Offer in order; the (request id, output tokens) of the copies that count."""
    deduper = Deduper(price)
    slots: list[Slot] = []
    for r in responses:
        verdict, slot = deduper.offer(r, "main")
        if verdict is Verdict.NEW:
            slots.append(slot)
    return [(s.response.request_id, s.response.output_tokens) for s in slots]


def test_copies_of_a_response_count_once() -> None:
    assert kept(resp(), resp(), resp()) == [("req_a", 10)]


def test_the_copy_with_more_tokens_wins_whichever_comes_first() -> None:
    assert kept(resp(out=5), resp(out=20)) == [("req_a", 20)]
    assert kept(resp(out=20), resp(out=5)) == [("req_a", 20)]


def test_the_main_conversation_wins_over_a_sidechain() -> None:
    assert kept(resp(out=50, side=True), resp(out=5)) == [("req_a", 5)]
    assert kept(resp(out=5), resp(out=50, side=True)) == [("req_a", 5)]


def test_equal_totals_keep_the_costlier_then_the_first() -> None:
    assert kept(resp(out=0, inp=10), resp(out=10, inp=0)) == [("req_a", 10)]
    assert kept(resp(out=10, inp=0), resp(out=0, inp=10)) == [("req_a", 10)]


def test_the_same_ids_in_another_session_are_the_same_response() -> None:
    assert kept(resp(session="s1"), resp(session="s2")) == [("req_a", 10)]  # a resumed session


def test_without_a_request_id_the_moment_and_session_decide() -> None:
    assert kept(resp(rid=None), resp(rid=None)) == [(None, 10)]
    assert kept(resp(rid=None), resp(rid=None, ms=T0 + 1)) == [(None, 10), (None, 10)]
    assert kept(resp(rid=None), resp(rid=None, session="s2")) == [(None, 10), (None, 10)]


def test_without_a_message_id_nothing_is_a_copy() -> None:
    assert kept(resp(mid=None), resp(mid=None)) == [("req_a", 10), ("req_a", 10)]


def test_a_sidechain_replay_under_a_new_request_id_is_a_copy() -> None:
    """/btw replays its parent's messages with new request ids, in the same session."""
    assert kept(resp(out=5), resp(rid="req_b", out=50, side=True)) == [("req_a", 5)]
    assert kept(resp(rid="req_b", out=50, side=True), resp(out=5)) == [("req_a", 5)]
    assert kept(resp(out=5, side=True), resp(rid="req_b", out=50, side=True)) == [("req_b", 50)]
    # not across sessions, and two main-conversation requests are two responses
    assert kept(resp(out=5), resp(rid="req_b", out=50, side=True, session="s2")) == [
        ("req_a", 5),
        ("req_b", 50),
    ]
    assert kept(resp(out=5), resp(rid="req_b", out=50)) == [("req_a", 5), ("req_b", 50)]


def test_a_replayed_slot_no_longer_answers_to_its_old_request_id() -> None:
    # the sidechain copy under req_a is replaced by the main one under req_b; a later copy
    # under req_a matches through the replay rule, and the main copy stays
    assert kept(resp(out=5, side=True), resp(rid="req_b", out=6), resp(out=50, side=True)) == [
        ("req_b", 6)
    ]
    # three copies: the main one, a replay, then a larger main copy of the first
    assert kept(resp(out=5), resp(rid="req_b", out=50, side=True), resp(out=7)) == [("req_a", 7)]


def test_a_copy_in_another_session_files_the_slot_there_for_replays() -> None:
    lines = (resp(session="s1", out=3), resp(session="s2", out=3))
    assert kept(*lines, resp(rid="req_z", out=90, side=True, session="s2")) == [("req_a", 3)]


def test_stored_responses_are_first_copies() -> None:
    deduper = Deduper(price)
    stored = Slot(resp(out=20), "main", 1.0, stored_id="cc-1")
    deduper.seed(stored)
    verdict, slot = deduper.offer(resp(out=5), "main")
    assert verdict is Verdict.DUPLICATE and slot is stored
    verdict, slot = deduper.offer(resp(out=30), "python-pro")
    assert verdict is Verdict.REPLACES and slot is stored
    assert (slot.response.output_tokens, slot.agent, slot.stored_id) == (30, "python-pro", "cc-1")
    deduper.seed(Slot(resp(mid=None), "main", None))  # nothing to file it under: ignored


def test_exact_keys() -> None:
    assert exact_key(resp()) == ("request", "msg_a", "req_a")
    assert exact_key(resp(rid=None)) == ("moment", "msg_a", "s1", str(T0))
    assert exact_key(resp(mid=None)) is None


def test_text_of_every_block_is_kept_with_the_response() -> None:
    deduper = Deduper(price)
    first, second = resp(), resp()
    first.texts, second.texts = ["Hello"], ["world"]
    _, slot = deduper.offer(first, "main")
    deduper.offer(second, "main")
    assert slot.texts == ["Hello", "world"]
