from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxrouter import Settings, load_catalog
from ctxrouter.catalog import Catalog
from ctxrouter.clock import VirtualClock
from ctxrouter.config import RetrySettings
from ctxrouter.errors import BadRequestError
from ctxrouter.execution.attempts import AttemptEngine
from ctxrouter.execution.executor import Executor
from ctxrouter.execution.runtime import Runtime
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.pipelines.engine import PipelineRunner
from ctxrouter.pipelines.loader import load_all, parse_pipeline
from ctxrouter.pipelines.report import report
from ctxrouter.routing import Router
from ctxrouter.testing.fake_anthropic import FakeAnthropic
from ctxrouter.testing.scripted import Reply, ScriptedProvider

DIAMOND = """
schema_version: 1
name: diamond
steps:
  - id: spec
    agent: backend-architect
  - id: code
    agent: python-pro
    depends_on: [spec]
  - id: docs
    agent: technical-writer
    depends_on: [spec]
    prompt: "Document: {spec}"
  - id: review
    agent: code-reviewer
    depends_on: [code, docs]
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(Settings.load())


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry.load(Settings.load())


def scripted_runner(
    catalog: Catalog, registry: ModelRegistry, provider: ScriptedProvider
) -> PipelineRunner:
    clock = VirtualClock()
    provider.clock = clock
    router = Router(catalog, registry.tier_map)
    engine = AttemptEngine.from_settings(RetrySettings(), registry, clock=clock)
    return PipelineRunner(Executor(router, provider, engine), clock)


async def test_parallel_branch_overlaps_and_critical_path(
    catalog: Catalog, registry: ModelRegistry
) -> None:
    spec = parse_pipeline(DIAMOND, Path("diamond.yaml"), catalog)
    provider = ScriptedProvider(
        [
            Reply("the spec", confidence=0.9, latency_s=10),
            Reply("the code", confidence=0.9, latency_s=30, only_model="claude-haiku-5-5"),
            Reply("the docs", confidence=0.9, latency_s=5, only_model="claude-haiku-5-5"),
            Reply("looks good", confidence=0.9, latency_s=10),
        ]
    )
    runner = scripted_runner(catalog, registry, provider)
    run = await runner.run(spec, "Add a password reset endpoint")
    assert run.ok and run.output == "looks good"
    # the docs step got the spec's output through its template; review got both branches
    docs_call = next(c for c in provider.calls if c.messages[0].content.startswith("Document:"))
    assert docs_call.messages[0].content == "Document: the spec"
    review_call = provider.calls[-1].messages[0].content
    assert "the code" in review_call and "the docs" in review_call
    rep = report(run, registry)
    assert rep.calls_by_tier == {"sonnet": 2, "haiku": 2}
    # code (30 s) and docs (5 s) ran side by side: 10 + 30 + 10, not 10 + 30 + 5 + 10
    assert rep.wall_s == pytest.approx(50)
    assert rep.critical_path == ["spec", "code", "review"]
    assert rep.critical_path_s == pytest.approx(50)


async def test_a_failed_step_skips_its_dependents(
    catalog: Catalog, registry: ModelRegistry
) -> None:
    spec = parse_pipeline(DIAMOND, Path("diamond.yaml"), catalog)
    provider = ScriptedProvider(
        [
            Reply("the spec", confidence=0.9),
            BadRequestError("too long", status=400, model="claude-haiku-5-5"),
            Reply("the docs", confidence=0.9),
        ]
    )
    run = await scripted_runner(catalog, registry, provider).run(spec, "task")
    status = {
        k: ("ok" if o.ok else "skipped" if o.skipped else "failed") for k, o in run.steps.items()
    }
    assert status == {"spec": "ok", "code": "failed", "docs": "ok", "review": "skipped"}
    rep = report(run, registry)
    assert not rep.ok and rep.errors == 1 and rep.calls_by_tier == {"sonnet": 1, "haiku": 1}


async def test_savings_come_from_the_tokens_used(catalog: Catalog, tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path)
    spec = next(s for s in load_all(catalog) if s.name == "design-implement-test-review")
    async with Runtime.open(settings) as runtime:
        run = await PipelineRunner(runtime.executor, runtime.clock).run(spec, "Add rate limiting")
        rep = report(run, runtime.registry)
    events = [e for o in run.steps.values() if o.result for e in o.result.events]
    assert rep.cost.actual == pytest.approx(sum(e.cost_usd or 0 for e in events))
    # re-pricing every answered call on sonnet by hand gives the all-sonnet baseline
    by_hand = 0.0  # claude-sonnet-5-5 in force since 2026-10-07: 2 / 10 / 2.50 / 4 / 0.10
    for e in events:
        if e.outcome.value != "error":
            by_hand += (
                e.input_tokens * 2 + e.output_tokens * 10 + e.cache_read_tokens * 0.10
                + e.cache_creation_5m_tokens * 2.5 + e.cache_creation_1h_tokens * 4
            ) / 1e6  # fmt: skip
    assert rep.cost.all_sonnet == pytest.approx(by_hand)
    assert rep.cost.all_opus > rep.cost.all_sonnet > rep.cost.actual
    assert rep.wall_s > 0 and rep.critical_path == ["design", "implement", "test", "review"]


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.mark.parametrize("provider", ["simulated", "anthropic"])
async def test_every_pattern_and_a_dag_on_both_providers(
    catalog: Catalog, tmp_path: Path, fake: FakeAnthropic, provider: str
) -> None:
    settings = Settings.load(
        data_dir=tmp_path,
        providers={
            "default": provider,
            "anthropic_base_url": fake.base_url,
            "anthropic_api_key": "sk-test",
        },
    )
    specs = [*load_all(catalog), parse_pipeline(DIAMOND, Path("diamond.yaml"), catalog)]
    async with Runtime.open(settings) as runtime:
        runner = PipelineRunner(runtime.executor, runtime.clock)
        for spec in specs:
            run = await runner.run(spec, "Harden the login endpoint", task_id=spec.name)
            rep = report(run, runtime.registry)
            assert rep.ok, rep.steps
            # every step answered (simulated answers may be escalated: one more call each)
            assert sum(rep.calls_by_tier.values()) == len(spec.steps) + rep.escalations
            assert rep.cost.actual > 0 and rep.cost.all_sonnet > 0
            if spec.name == "diamond":
                code, docs = run.steps["code"], run.steps["docs"]
                # the parallel branch ran concurrently: the two steps' intervals overlap
                assert docs.started < code.ended and code.started < docs.ended
    served = [r for r in fake.requests if r.path == "/v1/messages"]
    if provider == "anthropic":
        assert len(served) == sum(len(s.steps) for s in specs)
        assert {r.model for r in served} <= {"claude-haiku-5-5", "claude-sonnet-5-5"}
    else:
        assert served == []
