"""The Store protocol: where events and feedback are kept. SQLite is the embedded default;
other backends (PostgreSQL) implement the same protocol and pass the same test suite."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from ctxrouter.telemetry.event import Event, Feedback


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Which events to read; every field narrows, ``None`` means any."""

    run_id: str | None = None
    agent: str | None = None
    model: str | None = None
    outcome: str | None = None
    since: float | None = None  # epoch seconds, inclusive
    until: float | None = None  # epoch seconds, exclusive
    limit: int | None = None
    newest_first: bool = False

    def where(self) -> tuple[str, list[Any]]:
        """The SQL ``WHERE`` clause (``""`` for every event) and its parameters."""
        equal = {
            column: getattr(self, column) for column in ("run_id", "agent", "model", "outcome")
        }
        return where_clause(equal, since=self.since, until=self.until)


def where_clause(
    equal: Mapping[str, object | None],
    *,
    since: float | None = None,
    until: float | None = None,
    extra: Sequence[str] = (),
) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause (``""`` when nothing narrows) and its parameters, with ``?``
    placeholders: the ``extra`` conditions, each column of ``equal`` whose value is not
    ``None`` equal to it (as text), ``ts`` in ``[since, until)``."""
    clauses = list(extra)
    params: list[Any] = []
    for column, value in equal.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(str(value))
    for clause, bound in (("ts >= ?", since), ("ts < ?", until)):
        if bound is not None:
            clauses.append(clause)
            params.append(bound)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class Closing:
    """``with thing:`` closes it on leaving the block (its ``close()``)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@runtime_checkable
class Store(Protocol):
    def write_events(self, events: Sequence[Event]) -> None:
        """Append events atomically (all or none)."""
        ...

    def events(self, query: EventQuery = ...) -> list[Event]: ...

    def count_events(self, query: EventQuery = ...) -> int: ...

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only SQL query over the shared schema (tables ``events`` and
        ``feedback``), written with ``?`` placeholders and SQL that both SQLite and PostgreSQL
        accept; each backend adapts the placeholders. Analytics build on this."""
        ...

    def corrections_by_agent(self, since: float | None = None) -> dict[str, int]: ...

    def runs_ending_with(self, fragment: str, limit: int = 2) -> list[str]:
        """Up to ``limit`` run ids ending with ``fragment`` (as tables show them)."""
        ...

    def runs_by_agent(self, since: float | None = None) -> dict[str, int]: ...

    def add_feedback(self, feedback: Feedback) -> None: ...

    def feedback(
        self, *, run_id: str | None = None, agent: str | None = None
    ) -> list[Feedback]: ...

    def close(self) -> None: ...
