"""Who a request is from and which model it goes to, through the real gateway."""

from __future__ import annotations

from pathlib import Path

import httpx

from ctxrouter.catalog.discovery import discover_catalog
from ctxrouter.catalog.loader import builtin_dir
from ctxrouter.config import OverridePolicy, Settings
from ctxrouter.telemetry.event import Event
from ctxrouter.testing.fake_anthropic import Fault

from .conftest import Setup, StartGateway

AGENT = "x-ctxrouter-agent"

SIMPLE_CODE_TASK = "Write a Python function that adds two numbers."
PYTHON_PRO_BODY = (builtin_dir() / "python-pro.md").read_text().split("---\n", 2)[2]


def post(
    setup: Setup,
    *,
    model: str = "claude-sonnet-5-5",
    system: object = None,
    text: str = SIMPLE_CODE_TASK,
    headers: dict[str, str] | None = None,
    stream: bool = False,
) -> httpx.Response:
    body: dict[str, object] = {
        "model": model,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": text}],
    }
    if system is not None:
        body["system"] = system
    if stream:
        body["stream"] = True
    return httpx.post(
        f"{setup.url}/v1/messages?beta=true",
        json=body,
        headers={"x-api-key": "sk-test", "anthropic-version": "2023-06-01", **(headers or {})},
        timeout=30,
    )


def claude_code_system(body: str, *, subagent: bool = True) -> list[dict[str, object]]:
    """A system prompt shaped like Claude Code 2.1.328's for a subagent."""
    mark = "cc_is_subagent=true;" if subagent else ""
    return [
        {"type": "text", "text": f"x-anthropic-billing-header: cc_version=2.1.328; {mark}"},
        {"type": "text", "text": "You are a Claude agent, built on Anthropic's Claude Agent SDK."},
        {"type": "text", "text": body + "\n\nMessages from the agent that launched you ..."},
    ]


def test_a_subagent_is_recognised_by_its_system_prompt(gateway: Setup) -> None:
    answer = post(
        gateway,
        system=claude_code_system(PYTHON_PRO_BODY),
        headers={"x-claude-code-session-id": "s-1", "x-claude-code-agent-id": "a-1"},
    )
    assert answer.status_code == 200
    assert gateway.fake.requests[-1].body["model"] == "claude-haiku-5-5"
    assert gateway.fake.requests[-1].headers["x-claude-code-agent-id"] == "a-1"
    (event,) = gateway.events
    assert (event.agent, event.session_id, event.model) == ("python-pro", "s-1", "claude-haiku-5-5")
    assert event.requested_model == "claude-sonnet-5-5"
    assert event.route_reason is not None and "claude-sonnet-5-5 -> claude-haiku-5-5" in (
        event.route_reason
    )
    assert event.category == "Code Generation"


def test_the_agent_id_keeps_its_agent_and_its_model(gateway: Setup) -> None:
    headers = {"x-claude-code-session-id": "s-1", "x-claude-code-agent-id": "a-7"}
    post(gateway, system=claude_code_system(PYTHON_PRO_BODY), headers=headers)
    # later turns: the task text changes (tool results, a harder question), the choice does not
    post(
        gateway,
        system=claude_code_system(PYTHON_PRO_BODY),
        headers=headers,
        text="Design a novel distributed consensus protocol with a formal security proof.",
    )
    assert [r.body["model"] for r in gateway.fake.requests] == ["claude-haiku-5-5"] * 2
    assert [e.agent for e in gateway.events] == ["python-pro", "python-pro"]


def test_main_and_unknown_prompts_are_main_and_keep_their_model(gateway: Setup) -> None:
    post(gateway, system=claude_code_system("You are the main loop.", subagent=False))
    post(gateway, system="A system prompt no agent file has, long enough to be compared.")
    post(gateway)
    assert [e.agent for e in gateway.events] == ["main", "main", "main"]
    assert [r.body["model"] for r in gateway.fake.requests] == ["claude-sonnet-5-5"] * 3
    assert all(e.requested_model is None for e in gateway.events)


def test_the_explicit_header_beats_the_system_prompt(gateway: Setup) -> None:
    post(
        gateway,
        system=claude_code_system(PYTHON_PRO_BODY),
        headers={"x-ctxrouter-agent": "code-reviewer", "x-claude-code-agent-id": "a-2"},
    )
    assert gateway.events[-1].agent == "code-reviewer"


def test_override_never_records_the_policy_but_keeps_the_model(
    start_gateway: StartGateway,
) -> None:
    setup = start_gateway(override=OverridePolicy.NEVER)
    post(setup, headers={"x-ctxrouter-agent": "python-pro"})
    assert setup.fake.requests[-1].body["model"] == "claude-sonnet-5-5"
    (event,) = setup.events
    assert event.requested_model is None
    assert event.route_reason == (
        "never: override=never kept claude-sonnet-5-5; the policy would pick claude-haiku-5-5"
    )


def test_override_always_replaces_a_model_of_an_unknown_tier(
    start_gateway: StartGateway,
) -> None:
    within = start_gateway()
    post(within, model="claude-3-opus-proxy", headers={"x-ctxrouter-agent": "python-pro"})
    assert within.fake.requests[-1].body["model"] == "claude-3-opus-proxy"
    assert (within.events[-1].route_reason or "").startswith("outside: claude-3-opus-proxy")
    always = start_gateway(override=OverridePolicy.ALWAYS)
    post(always, model="claude-3-opus-proxy", headers={"x-ctxrouter-agent": "python-pro"})
    assert always.fake.requests[-1].body["model"] == "claude-haiku-5-5"


def test_a_rewritten_request_keeps_every_other_field(gateway: Setup) -> None:
    body = {
        "model": "claude-sonnet-5-5",
        "max_tokens": 64,
        "messages": [
            {"role": "user", "content": SIMPLE_CODE_TASK},
            {"role": "system", "content": [{"type": "text", "text": "per-turn note"}]},
        ],
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "medium"},
        "metadata": {"user_id": "u"},
        "some_future_field": [1, {"x": None}],
    }
    answer = httpx.post(
        f"{gateway.url}/v1/messages?beta=true",
        json=body,
        headers={
            "x-api-key": "sk-test",
            "x-ctxrouter-agent": "python-pro",
            "anthropic-beta": "per-turn-control-2026-07-01",
        },
    )
    assert answer.status_code == 200
    sent = gateway.fake.requests[-1].body
    assert sent == {**body, "model": "claude-haiku-5-5"}


def test_max_tokens_is_clamped_to_the_targets_limit(gateway: Setup) -> None:
    gateway.fake.enqueue(Fault.ok("fine"))
    httpx.post(
        f"{gateway.url}/v1/messages",
        json={
            "model": "claude-sonnet-5-5",
            "max_tokens": 200_000,
            "messages": [{"role": "user", "content": SIMPLE_CODE_TASK}],
        },
        headers={"x-api-key": "sk-test", "x-ctxrouter-agent": "python-pro"},
    )
    sent = gateway.fake.requests[-1].body
    assert (sent["model"], sent["max_tokens"]) == ("claude-haiku-5-5", 128_000)


def test_agent_files_given_to_the_gateway_are_recognised(
    start_gateway: StartGateway, tmp_path: Path, settings: Settings
) -> None:
    project = tmp_path / "project"
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    body = "You are SCRIBE, who writes release notes from a list of merged pull requests."
    (agents / "scribe.md").write_text(
        f"---\nname: scribe\ndescription: Writes release notes.\nmodel: haiku\n---\n{body}\n"
    )
    # no model: line: Claude Code inherits; ctxrouter takes the catalog's python-pro policy
    (agents / "python-pro.md").write_text(
        "---\nname: python-pro\ndescription: Our Python agent.\n---\n"
        "You are our in-house Python agent; follow the team's conventions in CONTRIBUTING.\n"
    )
    catalog, problems = discover_catalog(settings, cwd=project, home=tmp_path / "nohome")
    assert problems == []
    assert catalog["python-pro"].policy.preference is not None
    assert catalog["python-pro"].policy.preference.value == "haiku"
    setup = start_gateway(cwd=project, home=tmp_path / "nohome")
    # Claude Code sends the file's model: haiku
    post(
        setup,
        model="claude-haiku-5-5",
        system=claude_code_system(body),
        headers={"x-claude-code-agent-id": "a-9"},
    )
    post(
        setup,
        system=claude_code_system(catalog["python-pro"].body),
        headers={"x-claude-code-agent-id": "a-10"},
    )
    assert [e.agent for e in setup.events] == ["scribe", "python-pro"]
    assert [r.body["model"] for r in setup.fake.requests] == ["claude-haiku-5-5"] * 2


AUDIT = "Audit the login handler for injection and secrets in logs."


def audit_on_haiku(setup: Setup) -> tuple[str, Event]:
    """security-auditor (sonnet, falling back to opus) asked for haiku: the model sent
    upstream and the request's event."""
    post(setup, model="claude-haiku-5-5", text=AUDIT, headers={AGENT: "security-auditor"})
    (event,) = setup.events
    return setup.fake.requests[-1].body["model"], event


def test_a_client_below_a_security_agents_floor_is_raised(gateway: Setup) -> None:
    sent, event = audit_on_haiku(gateway)
    assert sent == event.model == "claude-sonnet-5-5"
    assert (event.requested_model, event.route_flag) == ("claude-haiku-5-5", None)
    assert (event.route_reason or "").startswith("floor: claude-haiku-5-5 (haiku) is below")


def test_override_never_keeps_a_model_below_the_floor_and_flags_it(
    start_gateway: StartGateway,
) -> None:
    sent, event = audit_on_haiku(start_gateway(override=OverridePolicy.NEVER))
    assert sent == event.model == "claude-haiku-5-5"
    assert event.route_flag == "below-floor"
    assert "below security-auditor's tiers (sonnet, opus)" in (event.route_reason or "")
