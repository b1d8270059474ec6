"""Turn one agent file into an :class:`Agent`, or into precise problems.

Two formats are read (see :mod:`ctxrouter.policy.model_policy`): claude-ctx, whose ``model``
is a mapping, and Claude Code, whose ``model`` is ``haiku|sonnet|opus|inherit``. Fields
ctxrouter does not interpret are kept, untouched, in ``Agent.extra``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ctxrouter.catalog.agent import Agent, AgentFormat
from ctxrouter.catalog.frontmatter import Frontmatter, FrontmatterError, parse
from ctxrouter.errors import Problem, did_you_mean
from ctxrouter.policy.model_policy import Escalation, ModelPolicy
from ctxrouter.policy.tier import TIERS, Tier

KNOWN_FIELDS = ("name", "description", "category", "tags", "tools", "model")
# Fields Claude Code or claude-ctx define that we keep as they are; a key close to one of
# these is not a misspelling of ours.
PASSTHROUGH_FIELDS = (
    "color",
    "permissionMode",
    "skills",
    "hooks",
    "version",
    "author",
    "disallowedTools",
    "mcpServers",
    "memory",
    "effort",
    "maxTurns",
    "summary",
    "activation",
    "dependencies",
    "metadata",
)
POLICY_FIELDS = ("preference", "fallbacks", "escalation", "reasoning")
ESCALATION_FIELDS = ("to", "when")
CLAUDE_CODE_MODELS = (*(t.value for t in TIERS), "inherit")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_TIER_VALUES = tuple(t.value for t in TIERS)


class _Collector:
    def __init__(self, path: Path | None, fm: Frontmatter) -> None:
        self.path = path
        self.fm = fm
        self.problems: list[Problem] = []

    def error(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.path, self.fm.line_of(field), field, message))

    def warn(self, field: str, message: str) -> None:
        self.problems.append(
            Problem(self.path, self.fm.line_of(field), field, message, severity="warning")
        )

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def parse_agent_text(
    text: str, path: Path | None = None, *, builtin: bool = False
) -> tuple[Agent | None, list[Problem]]:
    """Parse one agent file's text. Returns the agent (None on any error) and all problems."""
    try:
        fm = parse(text)
    except FrontmatterError as exc:
        return None, [Problem(path, exc.line, None, str(exc))]
    c = _Collector(path, fm)
    data = fm.data

    name = _string(c, data, "name", required=True)
    if name and not _NAME.match(name):
        c.error("name", f"agent name {name!r} must be one word of letters, digits, '-', '_'")
    if name and path is not None and path.stem != name:
        c.warn("name", f"name {name!r} differs from the file name {path.name!r}")
    description = _string(c, data, "description")
    if not description:
        c.warn("description", "no description: routing and humans both read it")
    category = _string(c, data, "category")
    tags = _string_list(c, data, "tags")
    tools = _string_list(c, data, "tools")

    extra: dict[str, Any] = {}
    for key, value in data.items():
        key_s = str(key)
        if key_s in KNOWN_FIELDS:
            continue
        guess = did_you_mean(key_s, KNOWN_FIELDS, cutoff=0.75)
        if guess and guess not in data and did_you_mean(key_s, PASSTHROUGH_FIELDS, 0.9) is None:
            c.error(key_s, f"unknown field {key_s!r} (did you mean {guess!r}?)")
        extra[key_s] = value

    raw_model = data.get("model")
    if isinstance(raw_model, dict):
        fmt = AgentFormat.CLAUDE_CTX
        policy = _policy_from_mapping(c, raw_model)
    else:
        fmt = AgentFormat.CLAUDE_CODE
        policy = _policy_from_string(c, raw_model)

    if c.failed or policy is None or name is None:
        return None, c.problems
    agent = Agent(
        name=name,
        description=description or "",
        category=category or "",
        tags=tuple(tags),
        tools=tuple(tools),
        policy=policy,
        format=fmt,
        source=path,
        builtin=builtin,
        body=fm.body,
        extra=extra,
        inherits_model=fmt is AgentFormat.CLAUDE_CODE
        and (raw_model is None or str(raw_model).strip().lower() == "inherit"),
    )
    return agent, c.problems


def _string(c: _Collector, data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            c.error(key, f"missing required field {key!r}")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        c.error(key, f"{key!r} must be a string, got {type(value).__name__}")
        return None
    return str(value).strip()


def _string_list(c: _Collector, data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, str):  # Claude Code writes `tools: Read, Grep, Glob`
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v).strip() for v in value]
    c.error(key, f"{key!r} must be a list of strings or a comma-separated string")
    return []


def _tier(c: _Collector, field: str, value: Any) -> Tier | None:
    if isinstance(value, str) and value.strip().lower() in _TIER_VALUES:
        return Tier(value.strip().lower())
    guess = did_you_mean(str(value), _TIER_VALUES) if isinstance(value, str) else None
    hint = f" (did you mean {guess!r}?)" if guess else ""
    c.error(field, f"unknown tier {value!r}{hint}; expected one of haiku, sonnet, opus")
    return None


def _policy_from_string(c: _Collector, value: Any) -> ModelPolicy | None:
    if value is None:
        return ModelPolicy()  # Claude Code: no model means inherit the caller's
    if not isinstance(value, str):
        c.error("model", "'model' must be haiku|sonnet|opus|inherit or a mapping with 'preference'")
        return None
    word = value.strip().lower()
    if word == "inherit":
        return ModelPolicy()
    tier = _tier_from_model_string(word)
    if tier is None:
        guess = did_you_mean(word, CLAUDE_CODE_MODELS)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        c.error("model", f"unknown model {value!r}{hint}; expected haiku, sonnet, opus or inherit")
        return None
    return ModelPolicy(preference=tier)


def _tier_from_model_string(word: str) -> Tier | None:
    """``sonnet`` or a full id such as ``claude-sonnet-5-5`` -> the tier."""
    if word in _TIER_VALUES:
        return Tier(word)
    if word.startswith("claude-"):
        for tier in TIERS:
            if f"-{tier.value}-" in word + "-":
                return tier
    return None


def _unknown_fields(c: _Collector, block: dict[str, Any], known: Iterable[str], where: str) -> None:
    """An error for each key of ``block`` that is not one of ``known``, with a hint."""
    for key in block:
        if key not in known:
            guess = did_you_mean(str(key), known)
            hint = f" (did you mean {guess!r}?)" if guess else ""
            c.error(f"{where}.{key}", f"unknown field '{where}.{key}'{hint}")


def _policy_from_mapping(c: _Collector, block: dict[str, Any]) -> ModelPolicy | None:
    _unknown_fields(c, block, POLICY_FIELDS, "model")
    if "preference" not in block:
        c.error("model", "'model' mapping needs 'preference: haiku|sonnet|opus'")
        return None
    preference = _tier(c, "model.preference", block["preference"])

    raw_fallbacks = block.get("fallbacks") or []
    if isinstance(raw_fallbacks, str):
        raw_fallbacks = [raw_fallbacks]
    fallbacks: list[Tier] = []
    if not isinstance(raw_fallbacks, list):
        c.error("model.fallbacks", "'model.fallbacks' must be a list of tiers")
    else:
        for item in raw_fallbacks:
            tier = _tier(c, "model.fallbacks", item)
            if tier is not None and tier not in fallbacks:
                fallbacks.append(tier)
        if preference is not None and preference in fallbacks:
            c.warn("model.fallbacks", f"fallbacks repeat the preference {preference.value!r}")
            fallbacks.remove(preference)

    escalation = _escalation(c, block.get("escalation"), preference)
    reasoning = block.get("reasoning", "")
    if not isinstance(reasoning, str):
        c.error("model.reasoning", "'model.reasoning' must be a string")
        reasoning = ""
    if preference is None or c.failed:
        return None
    return ModelPolicy(
        preference=preference,
        fallbacks=tuple(fallbacks),
        escalation=escalation,
        reasoning=reasoning.strip(),
    )


def _escalation(c: _Collector, raw: Any, preference: Tier | None) -> Escalation | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        c.error("model.escalation", "'model.escalation' must be a mapping with 'to' and 'when'")
        return None
    _unknown_fields(c, raw, ESCALATION_FIELDS, "model.escalation")
    if "to" not in raw:
        c.error("model.escalation", "'model.escalation' needs 'to: haiku|sonnet|opus'")
        return None
    to = _tier(c, "model.escalation.to", raw["to"])
    when = raw.get("when")
    if isinstance(when, str):
        when = [when]
    if not isinstance(when, list) or not when or not all(isinstance(w, str) for w in when):
        c.error(
            "model.escalation.when", "'model.escalation.when' must be a non-empty list of phrases"
        )
        return None
    if to is not None and to == preference:
        c.error("model.escalation.to", f"escalation points to the preference itself ({to.value!r})")
        return None
    if to is None:
        return None
    return Escalation(to=to, when=tuple(w.strip() for w in when if w.strip()))
