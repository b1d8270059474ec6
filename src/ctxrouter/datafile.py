"""Reading ctxrouter's YAML data files (shipped or the user's) and JSON Lines inputs with
precise errors.

A validation error names the file, the line and the field, with a "did you mean" for a mistyped
enum value, so that a broken data file is a clear message and never a silent default.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ctxrouter.errors import ConfigError, InputError, Problem, did_you_mean

M = TypeVar("M", bound=BaseModel)


def read_text(path: Path | str, what: str = "file") -> str:
    """The text of a file the user named; one that cannot be read is a :class:`ConfigError`
    naming it and why (``what`` says what it was for: "the mix file")."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None


def read_data_file(path: Path | str | None, shipped_name: str) -> tuple[str, Path]:
    """The text of ``path`` or of the shipped ``ctxrouter/data/<shipped_name>``, and its path."""
    if path is None:
        resource = files("ctxrouter") / "data" / shipped_name
        return resource.read_text(encoding="utf-8"), Path(str(resource))
    return read_text(path), Path(path)


def parse_yaml(text: str, where: Path) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(str(Problem(where, line, None, f"not valid YAML: {exc}"))) from None


def parse_data_file(
    text: str,
    where: Path,
    model: type[M],
    known: Sequence[str] = (),
    *,
    locations: Callable[[ValidationError], ValidationError] | None = None,
) -> M:
    """The YAML ``text`` of the file ``where``, validated as ``model``. Every problem is one
    :class:`ConfigError` naming the line and field (:func:`data_file_error`; "did you mean" among
    ``known``); ``locations``, when given, first maps the errors' locations to paths in the file."""
    raw = parse_yaml(text, where)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise data_file_error(locations(exc) if locations else exc, text, where, known) from None


def load_data_file(
    path: Path | str | None,
    shipped_name: str,
    model: type[M],
    known: Sequence[str] = (),
    *,
    locations: Callable[[ValidationError], ValidationError] | None = None,
) -> M:
    """Read ``path`` (``None``: the shipped ``ctxrouter/data/<shipped_name>``) and validate it
    as ``model``, as :func:`parse_data_file` does."""
    text, where = read_data_file(path, shipped_name)
    return parse_data_file(text, where, model, known, locations=locations)


def data_file_error(
    exc: ValidationError, text: str, where: Path, known: Sequence[str]
) -> ConfigError:
    """One :class:`ConfigError` listing every problem, each with its line and field."""
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        message = err["msg"]
        value = err.get("input")
        if err["type"] == "enum" and isinstance(value, str):
            guess = did_you_mean(value, known)
            message = f"unknown value {value!r}" + (f" (did you mean {guess!r}?)" if guess else "")
        field = ".".join(str(p) for p in loc) or None
        problems.append(Problem(where, yaml_line(text, loc), field, message))
    head = f"{len(problems)} problem(s) in {where}; fix the file and run again:"
    return ConfigError("\n".join([head, *(f"  {p}" for p in problems)]))


def yaml_line(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        else:
            child = None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def read_json_lines(path: Path, text: str | None = None) -> Iterator[tuple[int, str, Any]]:
    """Each non-blank line of a JSON Lines file (or of ``text`` read from it) as
    ``(line number, "path:line", value)``. A file that cannot be read, or a line that is not
    JSON, is an :class:`InputError` naming it; what a value must hold is the caller's to check."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON: {exc.msg}") from None
        yield number, where, item
