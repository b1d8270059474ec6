"""A pipeline: steps that each name an agent, what they take as input, and what they wait for.

::

    schema_version: 1
    name: design-implement-test-review
    description: "..."
    claimed_savings_vs_all_sonnet_pct: 50     # optional: what a source claims, shown beside ours
    steps:
      - id: design
        agent: backend-architect
        prompt: "Design the API for: {task}"   # {task} and {<step id>} are filled in
      - id: implement
        agent: python-pro
        depends_on: [design]
        batchable: true                        # may go through the Message Batches API

A step without ``prompt`` gets the task followed by the outputs of the steps it depends on.
Independent steps run concurrently.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

STEP_ID = r"^[a-z][a-z0-9_-]*$"


class StepSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=STEP_ID)
    agent: str = Field(min_length=1)
    prompt: str | None = None
    depends_on: tuple[str, ...] = ()
    batchable: bool = False
    description: str = ""

    def placeholders(self) -> list[str]:
        """The ``{names}`` the prompt uses (``task`` or step ids)."""
        if self.prompt is None:
            return []
        return [name for _, name, _, _ in string.Formatter().parse(self.prompt) if name]


class PipelineSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    claimed_savings_vs_all_sonnet_pct: float | None = None
    claim_source: str | None = None
    steps: tuple[StepSpec, ...] = Field(min_length=1)

    @cached_property
    def by_id(self) -> dict[str, StepSpec]:
        return {s.id: s for s in self.steps}

    def topological(self) -> Iterator[StepSpec]:
        """Steps so that each comes after what it depends on (the spec is validated acyclic)."""
        done: set[str] = set()
        pending = list(self.steps)
        while pending:
            ready = [s for s in pending if set(s.depends_on) <= done]
            for step in ready:
                done.add(step.id)
                yield step
            pending = [s for s in pending if s.id not in done]

    def ancestors(self, step_id: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.by_id[step_id].depends_on)
        while stack:
            current = stack.pop()
            if current not in seen and current in self.by_id:
                seen.add(current)
                stack.extend(self.by_id[current].depends_on)
        return seen


def render_prompt(step: StepSpec, task: str, outputs: dict[str, str]) -> str:
    """The text sent for ``step``: its template filled in, or the task plus its inputs."""
    if step.prompt is not None:
        return step.prompt.format_map({"task": task, **outputs})
    parts = [task]
    for dep in step.depends_on:
        parts.append(f"\n## Output of step '{dep}'\n\n{outputs.get(dep, '')}")
    return "\n".join(parts)
