"""Write the catalog's tiers into Claude Code agent files (``model: haiku|sonnet|opus``).

Claude Code 2.1.x reads subagents from ``.claude/agents/*.md`` (and ``~/.claude/agents``):
YAML frontmatter with ``name``, ``description``, optional ``tools`` and ``model`` (an alias,
``haiku|sonnet|opus``, or ``inherit``), and the system prompt as the body. Claude Code runs a
subagent on its ``model:`` whatever its task, so a context-dependent policy (one that
escalates or takes a fast path) can only be written as its base tier; the gateway or the hook
apply the rest.

The edit is textual: only the ``model:`` value changes, keeping its quotes (or one
``model: TIER`` line is inserted after ``description:``, else at the end of the frontmatter);
every other byte stays, comments, key order and line endings included. Each edit is checked
by parsing the result: ``model`` must be the tier and every other field as before, or the file
is skipped. A claude-ctx file (``model:`` is a mapping) already carries its whole policy and is
skipped rather than flattened.

Everything here but :func:`read_folder` and :func:`write` is pure (text in, text out).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ctxrouter.catalog.agent import Agent
from ctxrouter.catalog.frontmatter import FrontmatterError, parse
from ctxrouter.integrations.claude_code.files import Action, read_text_exact, write_atomic
from ctxrouter.policy.model_policy import PolicyKind
from ctxrouter.policy.tier import Tier
from ctxrouter.textdiff import unified_diff

# What an export can do to a file, in the order its summary lists them.
EXPORT_ACTIONS = (Action.CHANGED, Action.UNCHANGED, Action.CREATED, Action.SKIPPED)


@dataclass(frozen=True, slots=True)
class FileExport:
    """What the export does to one file. ``before``/``after`` are the whole texts."""

    action: Action
    path: Path
    agent: str | None = None
    tier: Tier | None = None
    old_model: str | None = None  # the model value the file had (None: no model line)
    before: str = ""
    after: str = ""
    note: str = ""  # why it was skipped, or how a context-dependent policy was written
    error: bool = False  # skipped because the file is broken (not by design)

    def diff(self) -> str:
        """A unified diff of the change ('' when nothing changes)."""
        a, b = ("", "") if self.path.is_absolute() else ("a/", "b/")
        old = "/dev/null" if self.action is Action.CREATED else f"{a}{self.path}"
        return unified_diff(self.before, self.after, old, f"{b}{self.path}")


class Refused(Exception):
    """The file cannot be edited safely. ``error``: the file is broken (not a design skip)."""

    def __init__(self, reason: str, *, line: int | None = None, error: bool = True) -> None:
        super().__init__(reason)
        self.line = line
        self.error = error


# ---- pure: which tier, and the text edits ---------------------------------------------------


def target_tier(agent: Agent) -> tuple[Tier | None, str]:
    """The tier to write for ``agent`` and a note; ``None`` when its policy inherits."""
    policy = agent.policy
    if policy.preference is None:
        return None, "its policy inherits the caller's model: nothing to write"
    esc = policy.escalation
    if esc is None or policy.kind is PolicyKind.FIXED:
        return policy.preference, ""
    move = "escalates" if policy.kind is PolicyKind.ESCALATES else "takes a fast path"
    when = ", ".join(f'"{w}"' for w in esc.when)
    return policy.preference, (
        f"context-dependent: base tier {policy.preference.value}; it {move} to "
        f"{esc.to.value} on {when}, which only the gateway or the hook apply"
    )


def set_model(text: str, tier: Tier) -> tuple[str, str | None]:
    """``text`` with its frontmatter's ``model`` set to ``tier``, and the old value (``None``
    when there was no ``model`` key). Raises :class:`Refused` when it cannot be done safely."""
    start, end = _frontmatter_span(text)
    raw = text[start:end]
    root = _compose(raw)
    model = [(k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "model"]
    if len(model) > 1:
        raise Refused("'model' appears twice in the frontmatter", line=_line(model[1][0]))
    if model:
        key, value = model[0]
        old: str | None = value.value if isinstance(value, yaml.ScalarNode) else None
        new_raw = _replace_value(raw, key, value, tier)
    else:
        old = None
        new_raw = _insert_line(raw, root, tier)
    if new_raw == raw:
        return text, old
    _check(raw, new_raw, tier)
    return text[:start] + new_raw + text[end:], old


def agent_file_text(agent: Agent, tier: Tier) -> str:
    """A new Claude Code agent file for a catalog agent: name, description, tools (when it
    names any), model, and the catalog's body as the system prompt."""
    fields: dict[str, str] = {
        "name": agent.name,
        "description": agent.description or f"The {agent.name} agent.",
    }
    if agent.tools:
        fields["tools"] = ", ".join(agent.tools)  # Claude Code's comma-separated form
    fields["model"] = tier.value
    head = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=1 << 30)
    body = agent.body if not agent.body or agent.body.endswith("\n") else agent.body + "\n"
    return f"---\n{head}---\n{body}"


def agent_name(text: str) -> str:
    """The ``name`` in an agent file's frontmatter. Raises :class:`Refused`."""
    try:
        data = parse(text).data
    except FrontmatterError as exc:  # no frontmatter at all (a README) is not an error
        raise Refused(str(exc), line=exc.line, error="must start with" not in str(exc)) from None
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Refused("no 'name' in the frontmatter, so not a Claude Code agent file", line=2)
    return name.strip()


def plan_export(
    folder: Path,
    texts: Mapping[Path, str],
    catalog: Mapping[str, Agent],
    *,
    create: bool = False,
    only: Collection[str] | None = None,
    unreadable: Mapping[Path, str] | None = None,
) -> list[FileExport]:
    """What exporting ``catalog`` into ``folder`` does, given the text of each agent file
    there (``unreadable``: files that could not be read, with the reason). With ``create``,
    catalog agents no file names get ``<folder>/<name>.md``. ``only`` limits it to these agents."""
    out = [
        FileExport(Action.SKIPPED, path, note=f"cannot read: {why}", error=True)
        for path, why in (unreadable or {}).items()
    ]
    present: set[str] = set()
    for path, text in sorted(texts.items()):
        try:
            name = agent_name(text)
        except Refused as exc:
            out.append(_skipped(path, None, exc))
            continue
        present.add(name)
        if only is not None and name not in only:
            continue
        if name not in catalog:
            out.append(FileExport(Action.SKIPPED, path, name, note="not a catalog agent"))
            continue
        tier, note = target_tier(catalog[name])
        if tier is None:
            out.append(FileExport(Action.SKIPPED, path, name, note=note, error=False))
            continue
        try:
            after, old = set_model(text, tier)
        except Refused as exc:
            out.append(_skipped(path, name, exc))
            continue
        action = Action.UNCHANGED if after == text else Action.CHANGED
        out.append(FileExport(action, path, name, tier, old, text, after, note))
    if create:
        occupied = set(texts) | set(unreadable or {})
        for name, agent in catalog.items():
            if name in present or (only is not None and name not in only):
                continue
            path = folder / f"{name}.md"
            tier, note = target_tier(agent)
            if path in occupied:
                why = f"cannot create it: {path.name} exists and does not name {name!r}"
                out.append(FileExport(Action.SKIPPED, path, name, note=why, error=True))
            elif tier is None:
                out.append(FileExport(Action.SKIPPED, path, name, note=note, error=False))
            else:
                text = agent_file_text(agent, tier)
                out.append(FileExport(Action.CREATED, path, name, tier, None, "", text, note))
    return out


def _skipped(path: Path, name: str | None, exc: Refused) -> FileExport:
    where = f"line {exc.line}: " if exc.line is not None else ""
    return FileExport(Action.SKIPPED, path, name, note=f"{where}{exc}", error=exc.error)


def _frontmatter_span(text: str) -> tuple[int, int]:
    """Character offsets of the frontmatter's lines, between its two ``---`` lines."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].removeprefix("\ufeff").rstrip() != "---":
        raise Refused("no YAML frontmatter: the file must start with a '---' line", line=1)
    offset = len(lines[0])
    for line in lines[1:]:
        if line.rstrip() == "---":
            return len(lines[0]), offset
        offset += len(line)
    raise Refused("the frontmatter is not closed by a '---' line", line=1)


def _compose(raw: str) -> yaml.MappingNode:
    try:  # the pure-Python loader: its marks are character offsets into ``raw``
        root = yaml.compose(raw, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        problem = getattr(exc, "problem", None) or exc
        raise Refused(f"malformed YAML: {problem}", line=line) from None
    if not isinstance(root, yaml.MappingNode):
        raise Refused("the frontmatter is not a mapping of fields", line=2)
    if root.flow_style:
        raise Refused("the frontmatter is one {...} mapping: set its model by hand", line=2)
    return root


def _line(node: yaml.Node) -> int:
    """The file line of a frontmatter node (the frontmatter starts on line 2)."""
    return int(node.start_mark.line) + 2


def _replace_value(raw: str, key: yaml.Node, value: yaml.Node, tier: Tier) -> str:
    line = _line(key)
    if isinstance(value, yaml.MappingNode):
        raise Refused(
            "claude-ctx format: its model mapping carries the whole policy; left as it is",
            line=line,
            error=False,
        )
    if not isinstance(value, yaml.ScalarNode):
        raise Refused("'model' must be haiku|sonnet|opus|inherit, not a list", line=line)
    style = value.style or ""
    if style in ("|", ">"):
        raise Refused("'model' is a block scalar: set it by hand", line=line)
    if value.value == tier.value and value.tag == "tag:yaml.org,2002:str":
        return raw
    begin, stop = value.start_mark.index, value.end_mark.index
    if begin == stop:  # `model:` with no value: write after the colon
        begin = stop = raw.index(":", key.end_mark.index) + 1
        return raw[:begin] + f" {tier.value}" + raw[stop:]
    quote = style if style in ('"', "'") else ""
    return raw[:begin] + f"{quote}{tier.value}{quote}" + raw[stop:]


def _insert_line(raw: str, root: yaml.MappingNode, tier: Tier) -> str:
    """``raw`` with a ``model:`` line after the description's value, else at the end."""
    pairs = {k.value: (k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    if "description" in pairs:
        key, value = pairs["description"]
        pos = value.end_mark.index
        if pos > 0 and raw[pos - 1] != "\n":  # to the start of the next line
            newline = raw.find("\n", pos)
            pos = len(raw) if newline < 0 else newline + 1
        indent = key.start_mark.column
    else:
        pos = len(raw)
        indent = root.value[0][0].start_mark.column if root.value else 0
    ending = "\r\n" if raw[:pos].endswith("\r\n") or (pos == 0 and "\r\n" in raw) else "\n"
    return raw[:pos] + " " * indent + f"model: {tier.value}{ending}" + raw[pos:]


def _check(raw: str, new_raw: str, tier: Tier) -> None:
    """The edit set ``model`` to ``tier`` and left every other field as it was."""
    before: Any = yaml.load(raw, Loader=yaml.SafeLoader)
    try:
        after: Any = yaml.load(new_raw, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        after = None
    if (
        not isinstance(after, dict)
        or after.get("model") != tier.value
        or {k: v for k, v in before.items() if k != "model"}
        != {k: v for k, v in after.items() if k != "model"}
    ):
        raise Refused("the model line could not be edited safely: set it by hand")


# ---- I/O at the edge ------------------------------------------------------------------------


def read_folder(folder: Path) -> tuple[dict[Path, str], dict[Path, str]]:
    """The text of every ``*.md`` below ``folder`` (as Claude Code reads them), and the
    files that could not be read, with the reason."""
    texts: dict[Path, str] = {}
    unreadable: dict[Path, str] = {}
    if not folder.is_dir():
        return texts, unreadable
    for path in sorted(p for p in folder.rglob("*.md") if p.is_file()):
        try:
            texts[path] = read_text_exact(path)
        except (OSError, UnicodeDecodeError) as exc:
            unreadable[path] = str(exc)
    return texts, unreadable


def write(entries: Collection[FileExport]) -> None:
    """Write every changed or created file, each atomically."""
    for entry in entries:
        if entry.action in (Action.CHANGED, Action.CREATED):
            write_atomic(entry.path, entry.after)
