"""Load and validate pipeline files: schema, unknown agents, unknown steps, cycles, inputs.

Built-in pipelines live in ``ctxrouter/data/pipelines``; users add folders with
``Settings.pipeline_dirs`` or name a file directly. Every error names the file, the line and
the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

from ctxrouter.catalog.catalog import Catalog
from ctxrouter.datafile import parse_data_file, read_text, yaml_line
from ctxrouter.errors import ConfigError, Problem, did_you_mean
from ctxrouter.pipelines.spec import PipelineSpec


def builtin_pipeline_dir() -> Path:
    return Path(str(files("ctxrouter") / "data" / "pipelines"))


def parse_pipeline(text: str, where: Path, catalog: Catalog) -> PipelineSpec:
    """Validate a pipeline's text; raises :class:`ConfigError` listing every problem."""
    spec = parse_data_file(text, where, PipelineSpec)
    problems = list(_semantic_problems(spec, catalog, text, where))
    if problems:
        head = f"{len(problems)} problem(s) in pipeline {where}:"
        raise ConfigError("\n".join([head, *(f"  {p}" for p in problems)]))
    return spec


def _semantic_problems(
    spec: PipelineSpec, catalog: Catalog, text: str, where: Path
) -> Iterable[Problem]:
    def problem(index: int, field: str, message: str) -> Problem:
        loc = ("steps", index, field)
        return Problem(where, yaml_line(text, loc), f"steps[{index}].{field}", message)

    ids: dict[str, int] = {}
    for i, step in enumerate(spec.steps):
        if step.id in ids:
            yield problem(i, "id", f"step id {step.id!r} is used twice")
        ids[step.id] = i
    for i, step in enumerate(spec.steps):
        if step.agent not in catalog:
            guess = did_you_mean(step.agent, catalog)
            hint = f" (did you mean {guess!r}?)" if guess else ""
            yield problem(i, "agent", f"unknown agent {step.agent!r}{hint}")
        for dep in step.depends_on:
            if dep not in ids:
                guess = did_you_mean(dep, ids)
                hint = f" (did you mean {guess!r}?)" if guess else ""
                yield problem(i, "depends_on", f"depends on unknown step {dep!r}{hint}")
            elif dep == step.id:
                yield problem(i, "depends_on", "a step cannot depend on itself")
    cycle = _find_cycle(spec)
    if cycle:
        i = ids[cycle[0]]
        yield problem(i, "depends_on", "dependency cycle: " + " -> ".join([*cycle, cycle[0]]))
        return
    for i, step in enumerate(spec.steps):
        if step.prompt is None:
            continue
        try:
            names = step.placeholders()
        except ValueError as exc:
            yield problem(i, "prompt", f"bad template: {exc} (write literal braces as {{{{ }}}})")
            continue
        available = spec.ancestors(step.id)
        for name in names:
            if name == "task" or name in available:
                continue
            if name in ids:
                yield problem(
                    i,
                    "prompt",
                    f"uses {{{name}}}, the output of step {name!r}, without depending on it:"
                    f" add {name!r} to depends_on",
                )
            else:
                guess = did_you_mean(name, ["task", *ids])
                hint = f" (did you mean {{{guess}}}?)" if guess else ""
                yield problem(i, "prompt", f"unknown input {{{name}}}{hint}")


def _find_cycle(spec: PipelineSpec) -> list[str] | None:
    graph = {s.id: [d for d in s.depends_on if d in spec.by_id] for s in spec.steps}
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def pipeline_files(dirs: Iterable[Path]) -> dict[str, Path]:
    """Pipeline names to files: built-ins first, later folders override by file stem."""
    found: dict[str, Path] = {}
    for folder in [builtin_pipeline_dir(), *dirs]:
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
                found[path.stem] = path
    return found


def load_pipeline(name_or_path: str, catalog: Catalog, dirs: Iterable[Path] = ()) -> PipelineSpec:
    """A pipeline by name (built-in or from ``dirs``) or by file path."""
    path = Path(name_or_path).expanduser()
    if not (path.suffix in {".yaml", ".yml"} and path.exists()):
        known = pipeline_files(dirs)
        if name_or_path not in known:
            guess = did_you_mean(name_or_path, known)
            hint = f" (did you mean {guess!r}?)" if guess else ""
            raise ConfigError(
                f"unknown pipeline {name_or_path!r}{hint}; `ctxrouter pipeline list` shows them"
            )
        path = known[name_or_path]
    return parse_pipeline(read_text(path, "the pipeline"), path, catalog)


def load_all(catalog: Catalog, dirs: Iterable[Path] = ()) -> list[PipelineSpec]:
    return [load_pipeline(str(p), catalog) for p in pipeline_files(dirs).values()]
