"""Split a Markdown file into YAML frontmatter and body, keeping line numbers.

Only syntax lives here; what the fields mean is :mod:`ctxrouter.catalog.parse`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # the C loader is ~10x faster where libyaml is available
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


class FrontmatterError(ValueError):
    """The file has no usable frontmatter. ``line`` is 1-based within the file."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Frontmatter:
    """Parsed frontmatter: the data, the body, and where each key was written."""

    data: dict[str, Any]
    body: str
    # "model" -> 5, "model.preference" -> 6: the 1-based file line of each mapping key
    lines: dict[str, int] = field(default_factory=dict)
    first_line: int = 2  # the file line of the frontmatter's first line

    def line_of(self, key: str) -> int:
        """The line of ``key`` (dotted), else of its nearest parent, else the frontmatter start."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return self.first_line


def split(text: str) -> tuple[str, str, int]:
    """Return (frontmatter text, body, file line where the frontmatter starts)."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n").rstrip() != "---":
        raise FrontmatterError("no YAML frontmatter: the file must start with a '---' line", 1)
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n").rstrip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), 2
    raise FrontmatterError("frontmatter is not closed: add a '---' line after it", 1)


def parse(text: str) -> Frontmatter:
    """Parse a Markdown file's frontmatter. Raises :class:`FrontmatterError`."""
    raw, body, first = split(text)
    offset = first - 1
    try:
        node = yaml.compose(raw, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 + offset if mark is not None else first
        problem = getattr(exc, "problem", None) or str(exc)
        raise FrontmatterError(f"malformed YAML: {problem}", line) from None
    if node is None:
        raise FrontmatterError("frontmatter is empty", first)
    if not isinstance(node, yaml.MappingNode):
        raise FrontmatterError("frontmatter must be a mapping of fields (key: value)", first)
    data = yaml.load(raw, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
    lines: dict[str, int] = {}
    _record_lines(node, "", offset, lines)
    return Frontmatter(data=data, body=body.lstrip("\n"), lines=lines, first_line=first)


def _record_lines(node: yaml.Node, prefix: str, offset: int, out: dict[str, int]) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = f"{prefix}{key_node.value}"
        out[key] = key_node.start_mark.line + 1 + offset
        _record_lines(value_node, key + ".", offset, out)
