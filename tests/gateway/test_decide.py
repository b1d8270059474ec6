"""The gateway's pure parts: attribution and the model choice."""

from __future__ import annotations

from ctxrouter.catalog.agent import Agent, AgentFormat
from ctxrouter.config import OverridePolicy, Settings
from ctxrouter.gateway.attribution import AgentMatcher, Attributor, system_text
from ctxrouter.gateway.decide import (
    ABOVE_CEILING,
    BELOW_FLOOR,
    OUTSIDE_TIERS,
    ModelChoice,
    adapt_body,
    choose,
)
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
    asked: str,
    policy: ModelPolicy,
    override: OverridePolicy,
    *,
    inherits: bool = False,
    routed: Tier = Tier.HAIKU,
) -> ModelChoice:
    settings = Settings.load()
    registry = ModelRegistry.load(settings)
    subject = agent("a", LONG, policy=policy, format=AgentFormat.CLAUDE_CODE).model_copy(
        update={"inherits_model": inherits}
    )
    router = Router.from_settings(settings, registry=registry)
    decision = router.decide(RouteRequest(task="Write a Python function that adds two numbers."))
    decision = type(decision)(
        tier=routed,
        model=registry.tier_map[routed],
        agent="a",
        matrix=decision.matrix,
        detection=decision.detection,
        trace=decision.trace,
    )
    return choose(
        agent=subject, asked=asked, decision=decision, registry=registry, override=override
    )


HAIKU, SONNET, OPUS = "claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"


def test_override_policies() -> None:
    haiku_or_sonnet = ModelPolicy(preference=Tier.HAIKU, fallbacks=(Tier.SONNET,))
    within = OverridePolicy.WITHIN_TIERS

    def made(asked: str, override: OverridePolicy, **kw: bool) -> tuple[str, bool, str]:
        choice = choice_for(asked, haiku_or_sonnet, override, **kw)
        return choice.model, choice.rewritten, choice.rule

    assert made(SONNET, within) == (HAIKU, True, "within-tiers")
    assert made(OPUS, within) == (HAIKU, True, "ceiling")  # above the agent's tiers
    assert made(OPUS, within, inherits=True) == (HAIKU, True, "inherit")
    assert made("some-proxy-model", within) == ("some-proxy-model", False, "outside")
    assert made(HAIKU, within) == (HAIKU, False, "agree")
    assert made(OPUS, OverridePolicy.ALWAYS) == (HAIKU, True, "always")
    assert made(OPUS, OverridePolicy.NEVER, inherits=True) == (OPUS, False, "never")


def test_every_reason_starts_with_its_rule_and_kept_outside_models_are_flagged() -> None:
    sonnet_or_opus = ModelPolicy(preference=Tier.SONNET, fallbacks=(Tier.OPUS,))
    never = choice_for(HAIKU, sonnet_or_opus, OverridePolicy.NEVER, routed=Tier.SONNET)
    assert (never.model, never.flag) == (HAIKU, BELOW_FLOOR)
    assert never.reason.startswith("never: ") and "below a's tiers (sonnet, opus)" in never.reason
    inside = choice_for(OPUS, sonnet_or_opus, OverridePolicy.NEVER, routed=Tier.SONNET)
    assert inside.flag is None  # opus is one of its tiers: nothing to flag
    haiku_only = ModelPolicy(preference=Tier.HAIKU)
    assert choice_for(OPUS, haiku_only, OverridePolicy.NEVER).flag == ABOVE_CEILING
    unknown = choice_for("some-proxy-model", haiku_only, OverridePolicy.WITHIN_TIERS)
    assert unknown.flag == OUTSIDE_TIERS and unknown.reason.startswith("outside: ")


def route_request(agent_name: str, asked: str, task: str) -> ModelChoice:
    """The choice for a catalog agent, with the shipped router (what the gateway does)."""
    settings = Settings.load()
    registry = ModelRegistry.load(settings)
    router = Router.from_settings(settings, registry=registry, read_store=False)
    decision = router.decide(RouteRequest(task=task, agent=agent_name))
    return choose(
        agent=router.catalog[agent_name],
        asked=asked,
        decision=decision,
        registry=registry,
        override=OverridePolicy.WITHIN_TIERS,
    )


def test_a_client_never_takes_an_agent_below_its_floor() -> None:
    # security-auditor: sonnet, falling back to opus; quality first for security work
    choice = route_request("security-auditor", HAIKU, "Audit the login handler for injection.")
    assert (choice.model, choice.rule) == (SONNET, "floor")
    assert choice.reason.startswith(f"floor: {HAIKU} (haiku) is below security-auditor's floor")


def test_a_request_above_an_agents_tiers_is_brought_to_the_routed_tier() -> None:
    # database-optimizer: haiku, escalating to sonnet for schema redesign; never opus
    task = "Redesign the schema of the orders tables for multi-tenant growth."
    choice = route_request("database-optimizer", OPUS, task)
    assert (choice.model, choice.rule) == (SONNET, "ceiling")
    assert "escalate to sonnet" in choice.reason


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
