"""Telling people about alerts: a one-method :class:`Notifier` protocol and three built-ins.

- :class:`ConsoleNotifier`: a readable list on a Rich console (the check's own output);
- :class:`LogNotifier`: one record per alert on the ``ctxrouter.alerts`` logger (INFO, WARNING or
  ERROR by severity; the alert's fields in ``record.alert``);
- :class:`WebhookNotifier`: an HTTP POST of a Slack-compatible JSON payload
  (:func:`slack_payload`: ``{"text": ..., "blocks": [...]}``), which Slack incoming webhooks and
  most chat tools accept.

:func:`notify_all` calls each notifier and collects what failed: a webhook that times out or
answers an error is reported, never a crash of the check. Anything with a ``name`` and a
``notify(alerts)`` method is a notifier.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx
from rich.console import Console
from rich.markup import escape

from ctxrouter.alerts.evaluate import Alert
from ctxrouter.alerts.rules import Severity
from ctxrouter.errors import CtxRouterError, InputError

LOGGER_NAME = "ctxrouter.alerts"
_LEVELS = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING}
_STYLES = {Severity.INFO: "blue", Severity.WARNING: "yellow", Severity.CRITICAL: "bold red"}
_EMOJI = {Severity.INFO: ":information_source:", Severity.WARNING: ":warning:"}
_MAX_BLOCKS = 50  # Slack's limit per message


class NotifyError(CtxRouterError):
    """A notifier could not deliver its alerts."""


@runtime_checkable
class Notifier(Protocol):
    name: str

    def notify(self, alerts: Sequence[Alert]) -> None:
        """Deliver ``alerts`` (never called with none); raise :class:`NotifyError` on failure."""
        ...


@dataclass(frozen=True, slots=True)
class NotifyFailure:
    notifier: str
    message: str


def notify_all(notifiers: Sequence[Notifier], alerts: Sequence[Alert]) -> list[NotifyFailure]:
    """Give ``alerts`` to every notifier; one failing does not stop the others."""
    if not alerts:
        return []
    failures = []
    for notifier in notifiers:
        try:
            notifier.notify(alerts)
        except NotifyError as exc:
            failures.append(NotifyFailure(notifier.name, str(exc)))
        except Exception as exc:  # a notifier must never crash the check
            failures.append(NotifyFailure(notifier.name, f"{type(exc).__name__}: {exc}"))
    return failures


class ConsoleNotifier:
    """Each alert as a severity tag, the rule and subject, then its message."""

    name = "console"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(soft_wrap=True)

    def notify(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            style = _STYLES[alert.severity]
            subject = alert.subject if alert.scope == "fleet" else f"{alert.scope} {alert.subject}"
            self.console.print(
                f"[{style}]{alert.severity.value.upper():<8}[/] [bold]{escape(alert.rule_id)}[/]"
                f"  {escape(subject)}",
                highlight=False,
            )
            self.console.print(f"  {escape(alert.message)}", highlight=False)


class LogNotifier:
    """One log record per alert on ``logger`` (default: the ``ctxrouter.alerts`` logger)."""

    name = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(LOGGER_NAME)

    def notify(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            self.logger.log(
                _LEVELS.get(alert.severity, logging.ERROR),
                "%s %s [%s:%s] %s",
                alert.severity.value,
                alert.rule_id,
                alert.scope,
                alert.subject,
                alert.message,
                extra={"alert": alert.to_dict()},
            )


class WebhookNotifier:
    """POSTs :func:`slack_payload` to ``url``. ``transport`` is httpx's seam (tests, proxies)."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        title: str = "ctxrouter",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise InputError(f"webhook URL: {exc}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise InputError(
                f"webhook URL: expected an http:// or https:// address, got {redact(url)!r}"
            )
        self.url = url
        self.timeout_s = timeout_s
        self.title = title
        self._transport = transport

    def notify(self, alerts: Sequence[Alert]) -> None:
        where = redact(self.url)
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self._transport) as client:
                response = client.post(self.url, json=slack_payload(alerts, title=self.title))
        except httpx.TimeoutException:
            raise NotifyError(f"webhook {where}: no answer within {self.timeout_s:g}s") from None
        except httpx.HTTPError as exc:
            raise NotifyError(f"webhook {where}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            body = " ".join(response.text.split())[:200]
            raise NotifyError(f"webhook {where} answered HTTP {response.status_code}: {body}")


def slack_payload(alerts: Sequence[Alert], *, title: str = "ctxrouter") -> dict[str, Any]:
    """A Slack-compatible message: ``text`` (the summary, shown in notifications and by tools
    that ignore blocks) and ``blocks`` (a header, then one section per alert)."""
    counts = {s: sum(1 for a in alerts if a.severity is s) for s in Severity}
    detail = ", ".join(f"{n} {s.value}" for s, n in reversed(counts.items()) if n)
    summary = f"{title}: {len(alerts)} alert(s) firing ({detail})"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": summary[:150]}}
    ]
    room = _MAX_BLOCKS - 2  # the header, and the "and N more" context
    for alert in alerts[:room]:
        emoji = _EMOJI.get(alert.severity, ":rotating_light:")
        text = (
            f"{emoji} *{alert.severity.value}* `{_mrkdwn(alert.rule_id)}` "
            f"{_mrkdwn(alert.scope)} *{_mrkdwn(alert.subject)}*\n{_mrkdwn(alert.message)}"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    if len(alerts) > room:
        more = f"… and {len(alerts) - room} more: run `ctxrouter alerts check`"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {"text": summary, "blocks": blocks}


def redact(url: str) -> str:
    """``scheme://host[:port]/…``: webhook paths are secrets (Slack's carry the token)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid URL>"
    port = f":{parsed.port}" if parsed.port else ""
    tail = "/…" if parsed.raw_path not in (b"", b"/") else ""
    return f"{parsed.scheme}://{parsed.host}{port}{tail}"


def _mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
