"""Which alerts were already notified, so that a condition does not page every minute.

An alert (same rule, same subject: :attr:`~ctxrouter.alerts.evaluate.Alert.key`) that was
notified is not notified again until ``renotify_after`` has passed, unless its value got worse
by ``worse_by`` (relative: 0.25 means 25% further in the bad direction than the value last
notified). ``alerts check`` still reports it, and still exits 1: only the notification is held.

The state is a small JSON file, ``<data_dir>/alerts-state.json``::

    {"version": 1,
     "notified": {"agent-success-rate:agent:test-automator":
                  {"value": 0.74, "at": 1767225600.0, "at_iso": "2026-01-01T00:00:00Z"}}}

``at`` is the wall-clock time of the notification. Entries older than ``renotify_after`` are
dropped when the file is written (they no longer hold anything back), so the file stays small; an
alert that clears and comes back within the period is not notified again (no flapping pages).
The file is written atomically (a temporary file in the same folder, then a rename), so a reader
never sees half a file. The last writer wins when two checks run at once.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ctxrouter.alerts.evaluate import Alert
from ctxrouter.errors import ConfigError

STATE_FILE = "alerts-state.json"
DEFAULT_RENOTIFY_AFTER_S = 6 * 3600.0


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


@dataclass(frozen=True, slots=True)
class Notified:
    value: float
    at: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class AlertState:
    """The last notification of each alert key. Immutable: :meth:`record` returns a new one."""

    notified: Mapping[str, Notified] = field(default_factory=dict)

    def is_due(
        self,
        alert: Alert,
        *,
        at: float,
        renotify_after: float = DEFAULT_RENOTIFY_AFTER_S,
        worse_by: float = 0.25,
    ) -> bool:
        last = self.notified.get(alert.key)
        if last is None or at - last.at >= renotify_after:
            return True
        return alert.is_worse_than(last.value, worse_by)

    def due(
        self,
        alerts: Iterable[Alert],
        *,
        at: float,
        renotify_after: float = DEFAULT_RENOTIFY_AFTER_S,
        worse_by: float = 0.25,
    ) -> list[Alert]:
        """The alerts to notify now (pure)."""
        return [
            a
            for a in alerts
            if self.is_due(a, at=at, renotify_after=renotify_after, worse_by=worse_by)
        ]

    def record(
        self,
        alerts: Iterable[Alert],
        *,
        at: float,
        renotify_after: float = DEFAULT_RENOTIFY_AFTER_S,
    ) -> AlertState:
        """This state with ``alerts`` notified ``at``, and entries that expired dropped."""
        kept = {k: n for k, n in self.notified.items() if at - n.at < renotify_after}
        kept.update({a.key: Notified(value=a.value, at=at) for a in alerts})
        return AlertState(kept)

    @classmethod
    def load(cls, path: Path) -> AlertState:
        """The state in ``path``; empty when the file does not exist yet."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read the alert state ({exc}); delete it") from None
        try:
            entries = raw["notified"]
            return cls(
                {str(k): Notified(float(v["value"]), float(v["at"])) for k, v in entries.items()}
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ConfigError(f"{path}: not an alert state file; delete it") from None

    def save(self, path: Path) -> None:
        """Write atomically: a temporary file in the same folder, then a rename over ``path``."""
        data = {
            "version": 1,
            "notified": {
                key: {"value": n.value, "at": n.at, "at_iso": _iso(n.at)}
                for key, n in sorted(self.notified.items())
            },
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
