"""The gateway's pure parts: attribution and the model choice."""

from __future__ import annotations

from ctxrouter.catalog.agent import Agent, AgentFormat
from ctxrouter.config import OverridePolicy, Settings
from ctxrouter.gateway.attribution import AgentMatcher, Attributor, system_text
from ctxrouter.gateway.decide import adapt_body, choose
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.policy.model_policy import ModelPolicy
from ctxrouter.policy.tier import Tier
from ctxrouter.routing.request import RouteRequest
from ctxrouter.routing.router import Router

LONG = "You are the release-notes writer. Read merged pull requests and write notes."
LONGER = LONG + " Group them by area and credit every author by their handle."


def agent(name: str, body: str = "", **kwargs: object) -> Agent:
    return Agent(name=name, body=body, **kwargs)  # type: ignore[arg-type]


def test_the_longest_contained_body_wins_and_short_bodies_never_match() -> None:
    matcher = AgentMatcher([agent("short", LONG), agent("long", LONGER), agent("tiny", "Hi.")])
    assert len(matcher) == 2
    assert matcher.match(f"prefix\n{LONGER}\nsuffix") == "long"
    assert matcher.match(f"prefix\n{LONG}\nsuffix") == "short"
    assert matcher.match("Hi. You are someone else.") is None


def test_the_agent_id_cache_remembers_the_first_match() -> None:
    attributor = Attributor(AgentMatcher([agent("writer", LONG)]))
    first = attributor.attribute(
        {"x-claude-code-agent-id": "a1", "x-claude-code-session-id": "s"}, {"system": LONG}
    )
    later = attributor.attribute({"x-claude-code-agent-id": "a1"}, {"system": "compacted"})
    assert (first.agent, first.how, first.session_id) == ("writer", "system-prompt", "s")
    assert later.agent == "writer"
    parent = attributor.attribute(
        {"x-claude-code-agent-id": "a2", "x-claude-code-parent-agent-id": "a1"}, {"system": "?"}
    )
    assert (parent.agent, parent.how, parent.parent_agent_id) == ("main", "default", "a1")


def test_the_cache_is_bounded() -> None:
    attributor = Attributor(AgentMatcher([agent("writer", LONG)]), cache_size=2)
    for i in range(5):
        attributor.attribute({"x-claude-code-agent-id": f"a{i}"}, {"system": LONG})
    assert len(attributor._by_agent_id) == 2


def test_system_text_reads_strings_and_blocks() -> None:
    assert system_text({"system": "plain"}) == "plain"
    assert system_text({"system": [{"type": "text", "text": "a"}, {"text": "b"}, "x"]}) == "a\nb"
    assert system_text({}) == ""


def choice_for(
    asked: str, policy: ModelPolicy, override: OverridePolicy, *, inherits: bool = False
) -> tuple[str, bool]:
    settings = Settings.load()
    registry = ModelRegistry.load(settings)
    subject = agent("a", LONG, policy=policy, format=AgentFormat.CLAUDE_CODE).model_copy(
        update={"inherits_model": inherits}
    )
    router = Router.from_settings(settings, registry=registry)
    decision = router.decide(RouteRequest(task="Write a Python function that adds two numbers."))
    decision = type(decision)(
        tier=Tier.HAIKU,
        model=registry.tier_map[Tier.HAIKU],
        agent="a",
        matrix=decision.matrix,
        detection=decision.detection,
        trace=decision.trace,
    )
    made = choose(
        agent=subject,
        asked=asked,
        decision=decision,
        registry=registry,
        override=override,
        tier_models=registry.tier_map,
    )
    return made.model, made.rewritten


def test_override_policies() -> None:
    haiku_or_sonnet = ModelPolicy(preference=Tier.HAIKU, fallbacks=(Tier.SONNET,))
    within = OverridePolicy.WITHIN_TIERS
    assert choice_for("claude-sonnet-5-5", haiku_or_sonnet, within) == ("claude-haiku-5-5", True)
    assert choice_for("claude-opus-5-5", haiku_or_sonnet, within) == ("claude-opus-5-5", False)
    assert choice_for("claude-opus-5-5", haiku_or_sonnet, within, inherits=True) == (
        "claude-haiku-5-5",
        True,
    )
    assert choice_for("some-proxy-model", haiku_or_sonnet, within) == ("some-proxy-model", False)
    assert choice_for("claude-opus-5-5", haiku_or_sonnet, OverridePolicy.ALWAYS)[1]
    never = OverridePolicy.NEVER
    assert choice_for("claude-opus-5-5", haiku_or_sonnet, never, inherits=True)[1] is False


def test_adapt_body_clamps_max_tokens_and_a_thinking_budget() -> None:
    registry = ModelRegistry.load(Settings.load())
    haiku = registry.find("claude-haiku-5-5")
    body = {"max_tokens": 200_000, "thinking": {"type": "enabled", "budget_tokens": 150_000}}
    adapted = adapt_body(body, haiku)
    assert adapted == {
        "max_tokens": 128_000,
        "thinking": {"type": "enabled", "budget_tokens": 127_999},
    }
    assert body["max_tokens"] == 200_000  # the caller's dict is not changed
    small = {"max_tokens": 1000}
    assert adapt_body(small, haiku) is small
    assert adapt_body(body, registry.find("claude-haiku-4-5")) is body  # no stated limit
