"""The router: a request in, a :class:`Decision` out. Pure: no I/O in :meth:`Router.decide`."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ctxrouter.catalog.catalog import Catalog
from ctxrouter.config import Settings
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.policy.detect import Detection, DetectionResult, Detector, load_detector
from ctxrouter.policy.matrix import (
    Characteristic,
    DecisionMatrix,
    MatrixResult,
    load_decision_matrix,
    score,
)
from ctxrouter.policy.tier import Tier
from ctxrouter.routing.request import Decision, RouteRequest, TraceStep
from ctxrouter.routing.stages import RouteContext, Stage, default_stages

if TYPE_CHECKING:
    from ctxrouter.telemetry.store import Store

log = logging.getLogger(__name__)


class Router:
    """Runs the stages in order over a request and resolves the tier to a model id."""

    def __init__(
        self,
        catalog: Catalog,
        tier_models: Mapping[Tier, str],
        *,
        detector: Detector | None = None,
        matrix: DecisionMatrix | None = None,
        stages: Sequence[Stage] | None = None,
    ) -> None:
        self.catalog = catalog
        self.tier_models = dict(tier_models)
        self.detector = detector or load_detector()
        self.matrix = matrix or load_decision_matrix()
        self.stages: tuple[Stage, ...] = tuple(stages if stages is not None else default_stages())
        # at most 2**10 sets of characteristics: scoring each once is enough
        self._scores: dict[tuple[Characteristic, ...], MatrixResult] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        catalog: Catalog | None = None,
        registry: ModelRegistry | None = None,
        *,
        store: Store | None = None,
        read_store: bool = True,
        now: float | None = None,
    ) -> Router:
        """The router every entry point uses (library, CLI, gateway, hook), built one way:
        the catalog (default: :func:`~ctxrouter.catalog.discovery.discover_catalog`), the
        registry's tier models, the shipped detection rules and matrix, and the stages
        ``default``, ``conditions``, ``corrections``, ``quality``.

        Corrections are read from ``store``, else (with ``read_store``) from the configured
        store when there is one (a SQLite file that does not exist yet holds none); ``now``
        (default: the current time) ends their window.
        """
        from ctxrouter.routing.corrections import (
            CorrectionStage,
            configured_corrections,
            read_corrections,
        )

        if catalog is None:
            from ctxrouter.catalog.discovery import discover_catalog

            catalog, problems = discover_catalog(settings)
            for problem in problems:
                log.warning("agent file skipped: %s", problem)
        if registry is None:
            registry = ModelRegistry.load(settings)
        when = now if now is not None else time.time()
        stats = {}
        if store is not None:
            stats = read_corrections(store, settings.runtime, when)
        elif read_store:
            stats = configured_corrections(settings, when)
        corrections = CorrectionStage.from_settings(settings.runtime, stats)
        return cls(catalog, registry.tier_map).with_stage(corrections, after="conditions")

    def stage(self, name: str) -> Stage:
        """The stage called ``name`` (``KeyError`` when there is none)."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def with_stage(self, stage: Stage, *, after: str | None = None) -> Router:
        """A new router with ``stage`` inserted after the stage named ``after`` (default: last)."""
        stages = list(self.stages)
        index = len(stages)
        if after is not None:
            names = [s.name for s in stages]
            if after not in names:
                raise ValueError(f"no stage named {after!r}; stages are {', '.join(names)}")
            index = names.index(after) + 1
        stages.insert(index, stage)
        return Router(
            self.catalog,
            self.tier_models,
            detector=self.detector,
            matrix=self.matrix,
            stages=stages,
        )

    def decide(self, request: RouteRequest) -> Decision:
        agent = self.catalog[request.agent] if request.agent else None
        category = agent.category if agent is not None else None
        if request.characteristics is not None:
            detection = stated(request.characteristics)
        else:
            detection = self.detector.detect(request.task, category)
        key = detection.characteristics
        matrix = self._scores.get(key)
        if matrix is None:
            matrix = self._scores[key] = score(key, self.matrix)
        ctx = RouteContext(request, agent, detection, matrix)
        tier: Tier | None = None
        trace: list[TraceStep] = []
        for stage in self.stages:
            result = stage(ctx, tier)
            if result is None:
                continue
            new_tier, reason = result
            trace.append(
                TraceStep(stage.name, new_tier, new_tier != tier and tier is not None, reason)
            )
            tier = new_tier
        if tier is None:  # only possible with custom stages that all abstain
            tier = Tier.SONNET
            trace.append(TraceStep("fallback", tier, False, "no stage chose a tier: sonnet"))
        return Decision(
            tier=tier,
            model=self.tier_models[tier],
            agent=agent.name if agent is not None else None,
            matrix=matrix,
            detection=detection,
            trace=tuple(trace),
        )


def stated(characteristics: tuple[Characteristic, ...]) -> DetectionResult:
    """A detection result for characteristics the caller stated instead of detection."""
    present = set(characteristics)
    return DetectionResult(
        tuple(Detection(c, ("stated by the caller",)) for c in Characteristic if c in present)
    )
