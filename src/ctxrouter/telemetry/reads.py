"""Reads every store answers the same way, written once in portable SQL through the store's
own :meth:`query` (``?`` placeholders; each backend adapts them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ctxrouter.telemetry.event import Feedback
from ctxrouter.telemetry.imports import SELECT_FILES, ImportedFile, imported_file

FEEDBACK_COLUMNS = "feedback_id, ts, run_id, agent, correction, rating, extra"


class SharedReads:
    """A mixin for Store implementations that provide :meth:`query`."""

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError  # provided by the store

    def feedback(self, *, run_id: str | None = None, agent: str | None = None) -> list[Feedback]:
        """Feedback for a run and/or an agent, oldest first."""
        sql = f"SELECT {FEEDBACK_COLUMNS} FROM feedback"
        clauses, params = [], []
        for column, value in (("run_id", run_id), ("agent", agent)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return [
            Feedback(
                feedback_id=fid,
                ts=ts,
                run_id=run,
                agent=who,
                correction=correction,
                rating=rating,
                extra=json.loads(extra),
            )
            for fid, ts, run, who, correction, rating, extra in self.query(
                sql + " ORDER BY ts, seq", params
            )
        ]

    def imported_files(self, source: str) -> dict[str, ImportedFile]:
        """The read positions of the importer ``source``, by path."""
        return {row[0]: imported_file(row) for row in self.query(SELECT_FILES, (source,))}

    def corrections_by_agent(self, since: float | None = None) -> dict[str, int]:
        """Feedback carrying a correction (not just a rating), per agent, since ``since``."""
        sql = (
            "SELECT agent, COUNT(*) FROM feedback"
            " WHERE agent IS NOT NULL AND correction IS NOT NULL AND correction <> ''"
        )
        return self._counts(sql, since)

    def runs_by_agent(self, since: float | None = None) -> dict[str, int]:
        """Distinct runs per agent (events without an agent are left out), since ``since``."""
        sql = "SELECT agent, COUNT(DISTINCT run_id) FROM events WHERE agent IS NOT NULL"
        return self._counts(sql, since)

    def _counts(self, sql: str, since: float | None) -> dict[str, int]:
        params: list[Any] = []
        if since is not None:
            sql += " AND ts >= ?"
            params.append(since)
        return {agent: int(n) for agent, n in self.query(sql + " GROUP BY agent", params)}
