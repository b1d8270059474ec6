"""``ctxrouter route``, ``ctxrouter run`` and ``ctxrouter feedback``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ctxrouter.cli.assign import decision_record, print_decision
from ctxrouter.cli.options import AgentsOpt
from ctxrouter.cli.output import guarded, print_json, print_store, stdout
from ctxrouter.cli.state import state
from ctxrouter.errors import FallbackExhausted, InputError
from ctxrouter.execution.result import RunOptions, RunResult
from ctxrouter.execution.validators import CommandValidator, JsonSchemaValidator, Validator
from ctxrouter.routing import Router, RouteRequest

AgentArg = Annotated[str, typer.Argument(help="The agent that does the task.")]
TaskArg = Annotated[str, typer.Argument(help="The task, in words.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@guarded
def route(
    ctx: typer.Context,
    agent: AgentArg,
    task: TaskArg,
    agents: AgentsOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Show the routing decision for AGENT on TASK, and the trace of why (nothing is run)."""
    app = state(ctx)
    router = Router.from_settings(app.settings, app.catalog(agents), app.registry())
    decision = router.decide(RouteRequest(task=_task(task), agent=agent))
    if json_:
        print_json(decision_record(decision, task))
    else:
        print_decision(decision, task)


def _task(task: str) -> str:
    if not task.strip():
        raise InputError("the task is empty: describe it in words")
    return task


def run_record(result: RunResult) -> dict[str, Any]:
    usage = result.usage
    return {
        "run_id": result.run_id,
        "agent": result.decision.agent,
        "answer": result.text,
        "accepted": result.accepted,
        "confidence": result.confidence,
        "model": result.model,
        "tier": result.tier,
        "routed_tier": result.decision.tier.value,
        "attempts": result.attempts,
        "escalations": result.escalations,
        "fallbacks": result.fallbacks,
        "tokens": {
            "input": usage.input_tokens,
            "output": usage.output_tokens,
            "cache_creation_5m": usage.cache_creation_5m_tokens,
            "cache_creation_1h": usage.cache_creation_1h_tokens,
            "cache_read": usage.cache_read_tokens,
        },
        "cost_usd": round(result.cost_usd, 8),
        "unpriced_attempts": result.unpriced,
        "latency_ms": round(result.latency_s * 1000.0, 1),
        "events": [
            {
                "attempt": e.attempt,
                "model": e.model,
                "outcome": e.outcome.value,
                "error_type": e.error_type,
                "escalated_from": e.escalated_from,
                "fallback_from": e.fallback_from,
            }
            for e in result.events
        ],
        "trace": decision_record(result.decision, "")["trace"],
    }


def _validators(command: list[str] | None, schema: Path | None) -> tuple[Validator, ...]:
    found: list[Validator] = []
    if schema is not None:
        try:
            found.append(JsonSchemaValidator(json.loads(schema.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            raise InputError(f"--json-schema {schema}: {exc}") from None
    if command:
        import shlex

        for item in command:
            found.append(CommandValidator(shlex.split(item)))
    return tuple(found)


@guarded
def run(
    ctx: typer.Context,
    agent: AgentArg,
    task: TaskArg,
    provider: Annotated[
        str | None,
        typer.Option(help="simulated (offline, the default) or anthropic (needs a key)."),
    ] = None,
    stream: Annotated[bool, typer.Option(help="Stream from the provider.")] = False,
    validate: Annotated[
        list[str] | None,
        typer.Option("--validate", help="A command that must exit 0 on the answer (repeatable)."),
    ] = None,
    json_schema: Annotated[
        Path | None, typer.Option(help="A JSON schema the answer must satisfy.")
    ] = None,
    store_text: Annotated[
        bool, typer.Option(help="Store the prompt and answer text (off by default).")
    ] = False,
    max_tokens: Annotated[int, typer.Option(min=1)] = 4096,
    agents: AgentsOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Run one task end to end: route, call, retry, fall back, escalate, record."""
    app = state(ctx)
    request = RouteRequest(task=_task(task), agent=agent)
    catalog = app.catalog(agents)
    catalog.get_agent(agent)  # an unknown agent fails before anything is opened
    options = RunOptions(
        validators=_validators(validate, json_schema),
        stream=stream,
        store_text=store_text or None,
        max_tokens=max_tokens,
    )
    where = app.store_target().label

    async def go() -> RunResult:
        async with app.runtime(provider, catalog=catalog) as runtime:
            return await runtime.run(request, options)

    try:
        result = asyncio.run(go())
    except FallbackExhausted as exc:
        if json_:
            print_json(
                {
                    "run_id": exc.run_id,
                    "error": "fallback_exhausted",
                    "attempts": [str(a) for a in exc.attempts],
                    "store": where,
                }
            )
        else:
            print_store(where, verb="attempts recorded in")
        raise
    if json_:
        print_json({**run_record(result), "store": where})
        return
    _print_run(result)
    print_store(where, verb="recorded in")


def _print_run(result: RunResult) -> None:
    out = stdout()
    out.print(result.text, markup=False, highlight=False)
    out.print()
    usage = result.usage
    status = "accepted" if result.accepted else "NOT accepted (no stronger tier left)"
    conf = f", confidence {result.confidence:.2f}" if result.confidence is not None else ""
    lines = [
        f"run       {result.run_id}",
        f"model     {result.model} ({result.tier}; routed to {result.decision.tier.value}), "
        f"{status}{conf}",
        f"attempts  {result.attempts} ({result.escalations} escalation(s), "
        f"{result.fallbacks} fallback(s))",
        f"tokens    {usage.input_tokens:,} in, {usage.output_tokens:,} out, "
        f"{usage.cache_read_tokens:,} cache read, "
        f"{usage.cache_creation_5m_tokens + usage.cache_creation_1h_tokens:,} cache write",
        f"cost      ${result.cost_usd:.6f}"
        + (f" + {result.unpriced} unpriced attempt(s)" if result.unpriced else ""),
        f"latency   {result.latency_s * 1000:,.0f} ms",
    ]
    for line in lines:
        out.print(line, style="dim", markup=False, highlight=False)
    for step in result.decision.trace:
        out.print(f"  {step.stage:<11}{step.reason}", style="dim", markup=False, highlight=False)


@guarded
def feedback(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run's id (as `ctxrouter run` prints it).")],
    correction: Annotated[
        str | None, typer.Option(help="What was wrong, or what the right answer is.")
    ] = None,
    rating: Annotated[int | None, typer.Option(help="1 (bad) to 5 (good).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Record a correction or a rating of a run; corrections escalate the agent's routing."""
    from ctxrouter.telemetry.feedback import record_feedback

    target = state(ctx).store_target()
    if not target.exists():
        raise InputError(
            f"no events recorded yet (store: {target.label}); nothing to give feedback on"
        )
    with target.open() as store:
        fb = record_feedback(store, run_id, correction=correction, rating=rating)
    if json_:
        print_json(
            {
                "feedback_id": fb.feedback_id,
                "run_id": fb.run_id,
                "agent": fb.agent,
                "correction": fb.correction,
                "rating": fb.rating,
                "store": target.label,
            }
        )
    else:
        stdout().print(f"recorded feedback on run {fb.run_id} ({fb.agent})", highlight=False)
        print_store(target.label, verb="recorded in")
