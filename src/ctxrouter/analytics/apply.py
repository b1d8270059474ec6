"""Turn a tier recommendation into an edit of the agent's frontmatter: a diff to show, and a
file to write. Only the one line that holds the tier changes; every other byte is kept.

A built-in agent is never edited in place (it lives inside the installed package): applying
writes an override with the same name into one of the user's agent folders, which the catalog
then prefers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ctxrouter.catalog.agent import Agent, AgentFormat
from ctxrouter.errors import InputError
from ctxrouter.textdiff import unified_diff

_PREFERENCE = re.compile(r"^(\s+preference:\s*)(haiku|sonnet|opus)(\s*(?:#.*)?)$", re.M)
_MODEL_LINE = re.compile(r"^(model:\s*)(haiku|sonnet|opus|inherit)(\s*(?:#.*)?)$", re.M)


@dataclass(frozen=True, slots=True)
class Edit:
    agent: str
    source: Path  # the file read
    target: Path  # the file that would be written
    before: str
    after: str

    def diff(self) -> str:
        return unified_diff(self.before, self.after, str(self.source), str(self.target))


def plan_edit(agent: Agent, tier: str, *, override_dir: Path | None) -> Edit:
    """The edit that sets ``agent``'s tier to ``tier``; raises InputError when it cannot."""
    if agent.source is None:
        raise InputError(f"agent {agent.name!r} has no source file to edit")
    text = agent.source.read_text(encoding="utf-8")
    frontmatter_end = _frontmatter_end(text)
    head, rest = text[:frontmatter_end], text[frontmatter_end:]
    pattern = _PREFERENCE if agent.format is AgentFormat.CLAUDE_CTX else _MODEL_LINE
    new_head, count = pattern.subn(lambda m: f"{m.group(1)}{tier}{m.group(3)}", head, count=1)
    if count == 0 and agent.format is AgentFormat.CLAUDE_CODE:
        new_head = head.rstrip("\n").removesuffix("---").rstrip("\n") + f"\nmodel: {tier}\n---\n"
        if not head.rstrip().endswith("---"):
            raise InputError(f"{agent.source}: cannot find the end of the frontmatter")
    elif count == 0:
        raise InputError(f"{agent.source}: no 'preference:' line in its model block to change")
    target = agent.source
    if agent.builtin:
        if override_dir is None:
            raise InputError(
                f"{agent.name} is a built-in agent: give --dir (one of your agent folders) "
                "to write an override there, or set agent_dirs in the config"
            )
        target = override_dir / agent.source.name
    return Edit(agent.name, agent.source, target, text, new_head + rest)


def apply_edit(edit: Edit) -> None:
    """Write the edit atomically (a temporary file renamed over the target)."""
    edit.target.parent.mkdir(parents=True, exist_ok=True)
    temp = edit.target.with_name(f".{edit.target.name}.tmp")
    temp.write_text(edit.after, encoding="utf-8")
    temp.replace(edit.target)


def _frontmatter_end(text: str) -> int:
    """The index just after the closing ``---`` line of the frontmatter."""
    match = re.match(r"\A\ufeff?---\r?\n.*?^---[ \t]*\r?\n?", text, re.S | re.M)
    if match is None:
        raise InputError("the agent file has no closed frontmatter")
    return match.end()
