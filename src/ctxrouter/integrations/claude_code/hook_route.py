"""What the PreToolUse hook answers for one ``Agent`` tool call. Pure given a router.

Facts read off Claude Code 2.1.328: the hook's stdin has ``session_id``, ``transcript_path``,
``cwd``, ``hook_event_name``, ``tool_name`` (``"Agent"``), ``tool_input`` (``description``,
``prompt``, ``subagent_type``, ``run_in_background``, optional ``model`` and ``effort``),
``tool_use_id``, and ``agent_type`` when the caller is itself a subagent. ``updatedInput``
replaces the whole input and is validated against the tool's schema, so ``model`` must be an
alias (``sonnet|opus|haiku``), never a full id (a full id makes the tool call fail); the hook's
choice beats a ``model`` the main agent set.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ctxrouter.routing.request import RouteRequest
from ctxrouter.routing.router import Router

ALIASES = ("haiku", "sonnet", "opus")


def hook_output(event: Mapping[str, Any], router: Router) -> dict[str, Any] | None:
    """The hook's JSON answer, or ``None`` to leave the call alone (not an Agent call, or a
    subagent the catalog does not know, such as Claude Code's own ``general-purpose``)."""
    if event.get("tool_name") != "Agent":
        return None
    tool_input = event.get("tool_input")
    if not isinstance(tool_input, dict):
        return None
    subagent = tool_input.get("subagent_type")
    if not isinstance(subagent, str) or subagent not in router.catalog:
        return None
    prompt = tool_input.get("prompt")
    decision = router.decide(
        RouteRequest(
            task=prompt if isinstance(prompt, str) else "",
            agent=subagent,
            task_id=event.get("tool_use_id") if isinstance(event.get("tool_use_id"), str) else None,
        )
    )
    alias = decision.tier.value
    if alias not in ALIASES:  # pragma: no cover - the tiers are these three
        return None
    asked = tool_input.get("model")
    caller = event.get("agent_type")
    why = decision.why
    context = f"ctxrouter routed subagent {subagent} to {alias}"
    if isinstance(asked, str) and asked != alias:
        context += f" (instead of {asked})"
    if isinstance(caller, str) and caller:
        context += f", called by {caller}"
    context += f": {why}"
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "updatedInput": {**tool_input, "model": alias},
            "additionalContext": context,
        }
    }


def build_router(cwd: Path | None, home: Path | None = None) -> Router:
    """The router the hook uses, built as every entry point builds it
    (:meth:`Router.from_settings`): settings as configured, the agents found from ``cwd``
    (the session's working directory), corrections from the configured store."""
    from ctxrouter.catalog.discovery import discover_catalog
    from ctxrouter.config import Settings

    settings = Settings.load()
    catalog, _problems = discover_catalog(settings, cwd=cwd, home=home)
    return Router.from_settings(settings, catalog)


__all__ = ["ALIASES", "build_router", "hook_output"]
