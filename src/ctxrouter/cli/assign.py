"""``ctxrouter assign``: pick and explain a tier for a task (or a file of tasks)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ctxrouter.cli.options import AgentsOpt
from ctxrouter.cli.output import fail, guarded, print_json, stdout
from ctxrouter.cli.state import state
from ctxrouter.datafile import read_json_lines
from ctxrouter.errors import InputError, UnknownAgentError, did_you_mean
from ctxrouter.policy.matrix import Characteristic
from ctxrouter.routing import Decision, Router, RouteRequest
from ctxrouter.routing.request import explain

_CHARACTERISTICS = [c.value for c in Characteristic]


def decision_record(decision: Decision, task: str) -> dict[str, Any]:
    """The JSON form of a decision, as ``assign`` and ``route`` print it."""
    m = decision.matrix
    return {
        "task": task,
        "agent": decision.agent,
        "tier": decision.tier.value,
        "model": decision.model,
        "haiku_score": m.haiku_score,
        "sonnet_score": m.sonnet_score,
        "matrix_winner": m.winner.value if m.winner else None,
        "margin": m.margin,
        "strength": m.strength.value,
        "characteristics": [
            {"id": d.characteristic.value, "signals": list(d.signals)}
            for d in decision.detection.detections
        ],
        "user_facing": decision.detection.user_facing,
        "trace": [
            {"stage": s.stage, "tier": s.tier.value, "changed": s.changed, "reason": s.reason}
            for s in decision.trace
        ],
        "reasons": decision.reasons,
    }


def parse_characteristics(values: list[str] | None) -> tuple[Characteristic, ...] | None:
    if not values:
        return None
    out = []
    for raw in values:
        for value in raw.split(","):
            value = value.strip().lower().replace("_", "-").replace(" ", "-")
            if value not in _CHARACTERISTICS:
                guess = did_you_mean(value, _CHARACTERISTICS)
                hint = f" (did you mean {guess!r}?)" if guess else ""
                raise InputError(
                    f"--characteristic: unknown characteristic {value!r}{hint}; "
                    f"expected one of {', '.join(_CHARACTERISTICS)}"
                )
            out.append(Characteristic(value))
    return tuple(out)


def print_decision(decision: Decision, task: str) -> None:
    out = stdout()
    m = decision.matrix
    who = f" for {decision.agent}" if decision.agent else ""
    out.print(
        f"[bold]{decision.tier.value}[/] ({decision.model}){who}  "
        f"haiku {m.haiku_score:+d} / sonnet {m.sonnet_score:+d}, {m.strength.value}",
        highlight=False,
    )
    if decision.detection.detections:
        out.print("detected:", style="dim")
        for d in decision.detection.detections:
            out.print(f"  {explain(d)}", highlight=False, markup=False)
    else:
        out.print("detected: nothing the matrix scores", style="dim")
    out.print("decided:", style="dim")
    for s in decision.trace:
        mark = "→" if s.changed else "·"
        out.print(f"  {mark} {s.stage:<11}{s.reason}", highlight=False, markup=False)


def _read_tasks(path: Path) -> list[tuple[int, RouteRequest]]:
    """Read a JSONL file of ``{"task": ..., "agent": ...}``; errors name the line."""
    requests: list[tuple[int, RouteRequest]] = []
    text = sys.stdin.read() if str(path) == "-" else None
    for number, where, item in read_json_lines(path, text):
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected a JSON object with a 'task' field")
        task = item.get("task")
        if not isinstance(task, str) or not task.strip():
            raise InputError(f"{where}: 'task' must be a non-empty string")
        agent = item.get("agent")
        if agent is not None and not isinstance(agent, str):
            raise InputError(f"{where}: 'agent' must be a string")
        chars = item.get("characteristics")
        if chars is not None and not (
            isinstance(chars, list) and all(isinstance(c, str) for c in chars)
        ):
            raise InputError(f"{where}: 'characteristics' must be a list of strings")
        try:
            parsed = parse_characteristics(chars)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        requests.append((number, RouteRequest(task=task, agent=agent, characteristics=parsed)))
    return requests


@guarded
def assign(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Option("--task", "-t", help="The task, in words.")] = None,
    tasks: Annotated[
        Path | None,
        typer.Option("--tasks", help="A JSONL file of tasks ('-' for stdin); one result a line."),
    ] = None,
    agent: Annotated[
        str | None, typer.Option("--agent", "-a", help="Apply this agent's policy on top.")
    ] = None,
    characteristic: Annotated[
        list[str] | None,
        typer.Option(
            "--characteristic",
            "-c",
            help="State a characteristic instead of detecting them (repeatable).",
        ),
    ] = None,
    agents: AgentsOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score a task on the decision matrix, apply the agent's policy, and explain the tier."""
    if (task is None) == (tasks is None):
        raise fail("give exactly one of --task or --tasks")
    app_state = state(ctx)
    catalog = app_state.catalog(agents)
    router = Router.from_settings(app_state.settings, catalog, app_state.registry())
    if tasks is not None:
        requests = []
        for number, request in _read_tasks(tasks):  # every line is checked before any output
            if agent and request.agent is None:
                request = RouteRequest(request.task, agent, request.characteristics)
            if request.agent is not None and request.agent not in router.catalog:
                raise InputError(
                    f"{tasks}:{number}: {UnknownAgentError(request.agent, router.catalog)}"
                )
            requests.append(request)
        for request in requests:
            decision = router.decide(request)
            record = decision_record(decision, request.task)
            if json_:
                print_json([record], lines=True)
            else:
                print_decision(decision, request.task)
        return
    assert task is not None
    if not task.strip():
        raise InputError("--task is empty: describe the task in words")
    decision = router.decide(RouteRequest(task, agent, parse_characteristics(characteristic)))
    if json_:
        print_json(decision_record(decision, task))
    else:
        print_decision(decision, task)
