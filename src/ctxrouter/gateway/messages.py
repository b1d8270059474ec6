"""``POST /v1/messages``: name the agent, choose the model, try it through the attempt engine.

For each message request the gateway names the agent (:mod:`~ctxrouter.gateway.attribution`),
asks the router for a decision and applies it under the override policy
(:mod:`~ctxrouter.gateway.decide`). The choice is made once per Claude Code subagent (its agent
id), so a conversation keeps one model. The request is then tried by the same
:class:`~ctxrouter.execution.attempts.AttemptEngine` the runtime uses (retries, backoff,
circuit breaker, run-wide attempt budget, the agent's fallback models when the model is the
policy's choice, one Event per try); :mod:`~ctxrouter.gateway.relay` sends and relays bytes.
"""

from __future__ import annotations

import json
import random
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ctxrouter.config import OverridePolicy
from ctxrouter.errors import FallbackExhausted, ProviderError
from ctxrouter.execution.attempts import (
    AttemptEngine,
    AttemptHandle,
    AttemptRun,
    Option,
    attempt_options,
)
from ctxrouter.gateway.attribution import DEFAULT_AGENT, Attribution, Attributor
from ctxrouter.gateway.decide import ModelChoice, choose
from ctxrouter.gateway.http import (
    BodyTooLarge,
    client_response,
    error_response,
    forward_headers,
    last_user_text,
    path_of,
    read_body,
)
from ctxrouter.gateway.keys import GatewayKey
from ctxrouter.gateway.relay import MessageRequest, send_once
from ctxrouter.gateway.upstream import Upstream
from ctxrouter.routing.request import RouteRequest
from ctxrouter.routing.router import Router
from ctxrouter.telemetry.event import new_id

CHOICE_CACHE_SIZE = 4096


@dataclass(slots=True)
class Messages:
    """The ``/v1/messages`` route and its state (the choices made per Claude Code agent id)."""

    upstream: Upstream
    router: Router
    engine: AttemptEngine
    attributor: Attributor
    override: OverridePolicy
    max_body_bytes: int
    rng: random.Random
    _choices: OrderedDict[str, ModelChoice] = field(default_factory=OrderedDict)
    _options: dict[tuple[str, str, bool], list[Option]] = field(default_factory=dict)

    async def handle(self, request: Request) -> Response:
        try:
            raw = await read_body(request, self.max_body_bytes)
        except BodyTooLarge:
            return error_response(
                413,
                "request_too_large",
                f"the request body is larger than the gateway's limit of "
                f"{self.max_body_bytes} bytes (gateway.max_body_bytes)",
            )
        except ClientDisconnect:
            return Response(status_code=499)
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return error_response(400, "invalid_request_error", f"malformed JSON body: {exc}")
        if not isinstance(body, dict):
            return error_response(400, "invalid_request_error", "the body must be a JSON object")
        asked = body.get("model")
        if not isinstance(asked, str) or not asked:
            return error_response(400, "invalid_request_error", "model: Field required")
        who = self.attributor.attribute(request.headers, body)
        key: GatewayKey | None = request.scope.get("state", {}).get("gateway_key")
        user = key.user if key is not None else None
        choice = self.choose_model(who, body, asked, user)
        message = MessageRequest(
            url=path_of(request),
            headers=forward_headers(request),
            body=body,
            raw=raw,
            asked=asked,
            stream=body.get("stream") is True,
        )
        run = self.start_run(who, choice, message, user)

        async def send(attempt: AttemptHandle) -> Response:
            return await send_once(self.upstream, self.engine.registry, message, attempt)

        try:
            response, _ = await self.engine.run(run, self.options(who, choice), send)
        except FallbackExhausted as exc:
            if exc.last_error is not None:
                return client_response(exc.last_error)
            return error_response(
                529, "overloaded_error", f"ctxrouter: no model could be tried: {exc}"
            )
        except ProviderError as exc:  # not retryable: the upstream's answer, as it is
            return client_response(exc)
        return response

    # -- choosing ------------------------------------------------------------------------

    def choose_model(
        self, who: Attribution, body: Mapping[str, Any], asked: str, user: str | None = None
    ) -> ModelChoice:
        """The model for this request; a Claude Code subagent keeps its first choice.
        ``user`` (the gateway key's owner) is there for stages that budget per user."""
        cache_key = f"{who.agent_id}:{asked}" if who.agent_id is not None else None
        if cache_key is not None and (cached := self._choices.get(cache_key)) is not None:
            self._choices.move_to_end(cache_key)
            return cached
        agent = self.router.catalog.get(who.agent) if who.agent != DEFAULT_AGENT else None
        decision = None
        if agent is not None:
            task = last_user_text(body)
            decision = self.router.decide(
                RouteRequest(task=task, agent=agent.name, user=user, task_id=who.agent_id)
            )
        choice = choose(
            agent=agent,
            asked=asked,
            decision=decision,
            registry=self.engine.registry,
            override=self.override,
        )
        if cache_key is not None:
            self._choices[cache_key] = choice
            if len(self._choices) > CHOICE_CACHE_SIZE:
                self._choices.popitem(last=False)
        return choice

    def options(self, who: Attribution, choice: ModelChoice) -> list[Option]:
        """What to try: the chosen model, then (when it is the policy's choice) the agent's
        fallback tiers' models, by the one rule the runtime uses too (remembered per agent
        and model: the catalog and the tiers do not change while the gateway runs)."""
        key = (who.agent, choice.model, choice.tier_routed)
        options = self._options.get(key)
        if options is None:
            if len(self._options) >= CHOICE_CACHE_SIZE:
                self._options.clear()
            options = self._options[key] = self._plan(who, choice)
        return options

    def _plan(self, who: Attribution, choice: ModelChoice) -> list[Option]:
        registry = self.engine.registry
        info = registry.find(choice.model)
        tier = info.tier if info is not None else None
        agent = self.router.catalog.get(who.agent)
        if not choice.tier_routed or tier is None or agent is None:
            return [Option(choice.model, tier)]
        options = attempt_options(agent, tier, self.router.tier_models)
        if options[0].model != choice.model:  # a tier mapped to another model id
            options.insert(0, Option(choice.model, tier))
        return options

    def start_run(
        self, who: Attribution, choice: ModelChoice, message: MessageRequest, user: str | None
    ) -> AttemptRun:
        """The request's tries, with what every one of them records alike."""
        agent = self.router.catalog.get(who.agent)
        return AttemptRun.start(
            new_id(),
            self.rng,
            agent=who.agent,
            category=agent.category or None if agent is not None else None,
            provider="gateway",
            user=user,
            session_id=who.session_id,
            stream=message.stream,
            route_reason=choice.reason,
            route_flag=choice.flag,
        )


__all__ = ["CHOICE_CACHE_SIZE", "Messages"]
