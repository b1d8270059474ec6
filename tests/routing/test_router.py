from __future__ import annotations

import pytest

from ctxrouter.catalog import load_catalog
from ctxrouter.config import Settings
from ctxrouter.policy import Tier
from ctxrouter.policy.matrix import Characteristic
from ctxrouter.routing import RouteContext, Router, RouteRequest


@pytest.fixture(scope="module")
def router() -> Router:
    settings = Settings.load()
    return Router.from_settings(settings, load_catalog(settings))


@pytest.mark.parametrize(
    ("task", "tier"),
    [
        ("Implement the endpoints described in this OpenAPI spec", Tier.HAIKU),
        ("Generate unit tests for the user service following our test template", Tier.HAIKU),
        ("Write a Terraform module for an S3 bucket with versioning", Tier.HAIKU),
        ("Decide the architecture for our event-driven order system", Tier.SONNET),
        ("Threat model the payment API", Tier.SONNET),
        ("Production is returning intermittent 500 errors and nobody knows why", Tier.SONNET),
    ],
)
def test_plain_tasks_without_agent(router: Router, task: str, tier: Tier) -> None:
    decision = router.decide(RouteRequest(task=task))
    assert decision.tier is tier, decision.reasons
    assert decision.model == f"claude-{tier.value}-5-5"
    assert decision.trace[0].stage == "default"


def test_agent_default_wins_without_conditions(router: Router) -> None:
    decision = router.decide(RouteRequest(task="Add a helper function", agent="python-pro"))
    assert decision.tier is Tier.HAIKU
    assert "python-pro prefers haiku" in decision.trace[0].reason


def test_escalation_on_a_when_phrase(router: Router) -> None:
    cheap = router.decide(
        RouteRequest(task="Rewrite this slow query to use the index", agent="database-optimizer")
    )
    assert cheap.tier is Tier.HAIKU
    up = router.decide(
        RouteRequest(
            task="We need to redesign the schema for multi-tenant billing",
            agent="database-optimizer",
        )
    )
    assert up.tier is Tier.SONNET
    step = next(s for s in up.trace if s.stage == "conditions")
    assert step.changed and "redesign the schema" in step.reason


def test_fast_path_down_and_not_for_security(router: Router) -> None:
    down = router.decide(
        RouteRequest(task="Generate examples of list comprehensions", agent="learning-guide")
    )
    assert down.tier is Tier.HAIKU
    stay = router.decide(RouteRequest(task="Design a curriculum for Rust", agent="learning-guide"))
    assert stay.tier is Tier.SONNET


def test_security_floor_lifts_a_haiku_agent(router: Router) -> None:
    decision = router.decide(
        RouteRequest(
            task="Fix the SQL injection vulnerability in the login handler",
            agent="python-pro",
        )
    )
    assert decision.tier is Tier.SONNET
    assert any(s.stage == "quality" and s.changed for s in decision.trace)


def test_explicit_characteristics_replace_detection(router: Router) -> None:
    decision = router.decide(
        RouteRequest(
            task="anything",
            characteristics=(Characteristic.BATCH_PROCESSING, Characteristic.WELL_DEFINED_SPEC),
        )
    )
    assert decision.tier is Tier.HAIKU
    assert decision.matrix.haiku_score == 4 and decision.matrix.sonnet_score == 0


def test_a_custom_stage_plugs_in_and_shows_in_the_trace(router: Router) -> None:
    class PinOpus:
        name = "pin"

        def __call__(self, ctx: RouteContext, tier: Tier | None) -> tuple[Tier, str] | None:
            if ctx.request.pipeline == "release":
                return Tier.OPUS, "release pipelines run on opus"
            return None

    pinned = router.with_stage(PinOpus(), after="quality")
    decision = pinned.decide(RouteRequest(task="Write docs", pipeline="release"))
    assert decision.tier is Tier.OPUS
    assert decision.model == "claude-opus-5-5"
    assert [s.stage for s in decision.trace][-1] == "pin"
    assert router.decide(RouteRequest(task="Write docs", pipeline="release")).tier is not Tier.OPUS
    with pytest.raises(ValueError, match="no stage named"):
        router.with_stage(PinOpus(), after="nope")
