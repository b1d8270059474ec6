"""Reading the time windows users type: ``--since 7d``, ``2026-01-31``, ``2026-01-31T14:00``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ctxrouter.errors import InputError

_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_since(value: str, *, now: float, flag: str = "--since") -> float:
    """Epoch seconds from an ISO date (midnight UTC), an ISO date and time (UTC unless it
    carries an offset) or a span back from ``now``: ``90s``, ``30m``, ``24h``, ``7d``, ``2w``."""
    text = value.strip()
    span = _SPAN.fullmatch(text.lower())
    if span:
        return now - float(span[1]) * _SECONDS[span[2]]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{flag}: cannot read {value!r}; give a date (2026-01-31), a date and time "
            "(2026-01-31T14:00, UTC unless an offset is given) or a span back from now "
            "(30m, 24h, 7d, 2w)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
