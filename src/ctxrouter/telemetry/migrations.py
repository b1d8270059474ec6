"""The store's migrations: every change of its schema since the first, in order, declared once
for both databases (:mod:`ctxrouter.telemetry.schema` renders them; :mod:`.migrate` applies
them). A migration's version is its position in :data:`MIGRATIONS`, from 1; each store records
what it has had in its ``_migrations`` table, and refuses one that records more than it knows.

**A shipped migration never changes**, not even its spelling: stores in the field have run it,
and a store created tomorrow must end up with the same schema. Everything here is literal (no
constants imported from elsewhere), and ``tests/telemetry/test_migrations.py`` holds the SHA-256
of each migration's DDL on each database, so an edit fails the tests.

To change the schema, append a migration. New columns on ``events``, for example::

    M005 = Migration(
        "m005_thinking_tokens",
        (
            AddColumn("events", Column("thinking_tokens", INTEGER, null=False, default="0")),
            AddColumn("events", Column("effort", TEXT)),
        ),
    )

1. declare it below and append it to :data:`MIGRATIONS` (a name never used before);
2. add the fields to :class:`~ctxrouter.telemetry.event.Event`, last and in the same order
   (``events`` must have exactly the columns of ``Event``, in its order: a test checks it, and
   the stores build their INSERT, COPY and SELECT from the field list, so nothing else changes);
   a column added ``null=False`` needs a ``default`` (the rows already stored take it);
3. run ``pytest tests/telemetry/test_migrations.py``: it fails, printing the new migration's
   hashes to record in that file.

A step that cannot be said the same way on both databases is :class:`Native` SQL per database.
"""

from __future__ import annotations

from ctxrouter.telemetry.schema import (
    AddColumn,
    Column,
    CreateIndex,
    CreateTable,
    Migration,
    Native,
    OnDuplicates,
    Type,
)

TEXT, INTEGER, REAL, BOOLEAN, SEQ = Type.TEXT, Type.INTEGER, Type.REAL, Type.BOOLEAN, Type.SEQ

M001 = Migration(
    "m001_events_and_feedback",
    (
        CreateTable(
            "events",
            (
                Column("seq", SEQ),  # insertion order; breaks ties in ts
                Column("event_id", TEXT, null=False),
                Column("ts", REAL, null=False),
                Column("run_id", TEXT, null=False),
                Column("agent", TEXT),
                Column("model", TEXT, null=False),
                Column("tier", TEXT),
                Column("outcome", TEXT, null=False),
                Column("attempt", INTEGER, null=False),
                Column("task_id", TEXT),
                Column("pipeline", TEXT),
                Column("step", TEXT),
                Column("category", TEXT),
                Column("provider", TEXT),
                Column("user", TEXT),
                Column("session_id", TEXT),
                Column("input_tokens", INTEGER, null=False),
                Column("output_tokens", INTEGER, null=False),
                Column("cache_creation_5m_tokens", INTEGER, null=False),
                Column("cache_creation_1h_tokens", INTEGER, null=False),
                Column("cache_read_tokens", INTEGER, null=False),
                Column("cost_usd", REAL),
                Column("latency_ms", REAL),
                Column("ttft_ms", REAL),
                Column("error_type", TEXT),
                Column("status_code", INTEGER),
                Column("escalated_from", TEXT),
                Column("fallback_from", TEXT),
                Column("experiment_arm", TEXT),
                Column("confidence", REAL),
                Column("stream", BOOLEAN, null=False),
                Column("batch", BOOLEAN, null=False),
                Column("request_id", TEXT),
                Column("prompt_chars", INTEGER, null=False),
                Column("prompt_sha256", TEXT),
                Column("output_chars", INTEGER, null=False),
                Column("output_sha256", TEXT),
                Column("prompt_text", TEXT),
                Column("output_text", TEXT),
            ),
        ),
        CreateIndex("events_ts", "events", ("ts",)),
        CreateIndex("events_run", "events", ("run_id",)),
        CreateIndex("events_agent_ts", "events", ("agent", "ts")),
        CreateIndex("events_model_ts", "events", ("model", "ts")),
        CreateTable(
            "feedback",
            (
                Column("seq", SEQ),
                Column("feedback_id", TEXT, null=False, unique=True),
                Column("ts", REAL, null=False),
                Column("run_id", TEXT, null=False),
                Column("agent", TEXT),
                Column("correction", TEXT),
                Column("rating", INTEGER),
                Column("extra", TEXT, null=False, default="'{}'"),  # a JSON object, as text
            ),
        ),
        CreateIndex("feedback_run", "feedback", ("run_id",)),
        CreateIndex("feedback_agent_ts", "feedback", ("agent", "ts")),
    ),
)

# Covering indexes for the metrics queries on SQLite (the page over 1M events: 6.4 s -> 0.96 s).
# SQLite uses an index on an expression only when a query spells the expression the same way:
# these are the expressions of ctxrouter.analytics.metrics when this migration shipped (copied
# here, frozen), and tests/analytics/test_metrics.py checks that the planner still uses them.
# PostgreSQL needs none (it aggregates by hashing); the migration is recorded there too, so
# versions align.
_M002_DAY = (  # the UTC day number
    "(CAST(ts / 86400 AS INTEGER) - CASE WHEN CAST(ts / 86400 AS INTEGER) > ts / 86400"
    " THEN 1 ELSE 0 END)"
)
_M002_BUCKET = (  # the latency bucket of an answered attempt
    "CASE WHEN outcome = 'error' OR latency_ms IS NULL THEN NULL WHEN latency_ms < 1 THEN 0 WHEN "
    "latency_ms < 1000 THEN (CASE WHEN latency_ms < 10 THEN CASE WHEN latency_ms < 2 THEN -19 + "
    "(CAST(latency_ms * 20 / 1 AS INTEGER) - CASE WHEN CAST(latency_ms * 20 / 1 AS INTEGER) > "
    "latency_ms * 20 / 1 THEN 1 ELSE 0 END) WHEN latency_ms < 5 THEN 1 + (CAST(latency_ms * 10 / "
    "1 AS INTEGER) - CASE WHEN CAST(latency_ms * 10 / 1 AS INTEGER) > latency_ms * 10 / 1 THEN 1 "
    "ELSE 0 END) ELSE 31 + (CAST(latency_ms * 4 / 1 AS INTEGER) - CASE WHEN CAST(latency_ms * 4 "
    "/ 1 AS INTEGER) > latency_ms * 4 / 1 THEN 1 ELSE 0 END) END WHEN latency_ms < 100 THEN CASE "
    "WHEN latency_ms < 20 THEN 51 + (CAST(latency_ms * 20 / 10 AS INTEGER) - CASE WHEN "
    "CAST(latency_ms * 20 / 10 AS INTEGER) > latency_ms * 20 / 10 THEN 1 ELSE 0 END) WHEN "
    "latency_ms < 50 THEN 71 + (CAST(latency_ms * 10 / 10 AS INTEGER) - CASE WHEN "
    "CAST(latency_ms * 10 / 10 AS INTEGER) > latency_ms * 10 / 10 THEN 1 ELSE 0 END) ELSE 101 + "
    "(CAST(latency_ms * 4 / 10 AS INTEGER) - CASE WHEN CAST(latency_ms * 4 / 10 AS INTEGER) > "
    "latency_ms * 4 / 10 THEN 1 ELSE 0 END) END ELSE CASE WHEN latency_ms < 200 THEN 121 + "
    "(CAST(latency_ms * 20 / 100 AS INTEGER) - CASE WHEN CAST(latency_ms * 20 / 100 AS INTEGER) "
    "> latency_ms * 20 / 100 THEN 1 ELSE 0 END) WHEN latency_ms < 500 THEN 141 + "
    "(CAST(latency_ms * 10 / 100 AS INTEGER) - CASE WHEN CAST(latency_ms * 10 / 100 AS INTEGER) "
    "> latency_ms * 10 / 100 THEN 1 ELSE 0 END) ELSE 171 + (CAST(latency_ms * 4 / 100 AS "
    "INTEGER) - CASE WHEN CAST(latency_ms * 4 / 100 AS INTEGER) > latency_ms * 4 / 100 THEN 1 "
    "ELSE 0 END) END END) WHEN latency_ms < 1000000 THEN (CASE WHEN latency_ms < 10000 THEN CASE "
    "WHEN latency_ms < 2000 THEN 191 + (CAST(latency_ms * 20 / 1000 AS INTEGER) - CASE WHEN "
    "CAST(latency_ms * 20 / 1000 AS INTEGER) > latency_ms * 20 / 1000 THEN 1 ELSE 0 END) WHEN "
    "latency_ms < 5000 THEN 211 + (CAST(latency_ms * 10 / 1000 AS INTEGER) - CASE WHEN "
    "CAST(latency_ms * 10 / 1000 AS INTEGER) > latency_ms * 10 / 1000 THEN 1 ELSE 0 END) ELSE "
    "241 + (CAST(latency_ms * 4 / 1000 AS INTEGER) - CASE WHEN CAST(latency_ms * 4 / 1000 AS "
    "INTEGER) > latency_ms * 4 / 1000 THEN 1 ELSE 0 END) END WHEN latency_ms < 100000 THEN CASE "
    "WHEN latency_ms < 20000 THEN 261 + (CAST(latency_ms * 20 / 10000 AS INTEGER) - CASE WHEN "
    "CAST(latency_ms * 20 / 10000 AS INTEGER) > latency_ms * 20 / 10000 THEN 1 ELSE 0 END) WHEN "
    "latency_ms < 50000 THEN 281 + (CAST(latency_ms * 10 / 10000 AS INTEGER) - CASE WHEN "
    "CAST(latency_ms * 10 / 10000 AS INTEGER) > latency_ms * 10 / 10000 THEN 1 ELSE 0 END) ELSE "
    "311 + (CAST(latency_ms * 4 / 10000 AS INTEGER) - CASE WHEN CAST(latency_ms * 4 / 10000 AS "
    "INTEGER) > latency_ms * 4 / 10000 THEN 1 ELSE 0 END) END ELSE CASE WHEN latency_ms < 200000 "
    "THEN 331 + (CAST(latency_ms * 20 / 100000 AS INTEGER) - CASE WHEN CAST(latency_ms * 20 / "
    "100000 AS INTEGER) > latency_ms * 20 / 100000 THEN 1 ELSE 0 END) WHEN latency_ms < 500000 "
    "THEN 351 + (CAST(latency_ms * 10 / 100000 AS INTEGER) - CASE WHEN CAST(latency_ms * 10 / "
    "100000 AS INTEGER) > latency_ms * 10 / 100000 THEN 1 ELSE 0 END) ELSE 381 + "
    "(CAST(latency_ms * 4 / 100000 AS INTEGER) - CASE WHEN CAST(latency_ms * 4 / 100000 AS "
    "INTEGER) > latency_ms * 4 / 100000 THEN 1 ELSE 0 END) END END) WHEN latency_ms < 10000000 "
    "THEN CASE WHEN latency_ms < 2000000 THEN 401 + (CAST(latency_ms * 20 / 1000000 AS INTEGER) "
    "- CASE WHEN CAST(latency_ms * 20 / 1000000 AS INTEGER) > latency_ms * 20 / 1000000 THEN 1 "
    "ELSE 0 END) WHEN latency_ms < 5000000 THEN 421 + (CAST(latency_ms * 10 / 1000000 AS "
    "INTEGER) - CASE WHEN CAST(latency_ms * 10 / 1000000 AS INTEGER) > latency_ms * 10 / 1000000 "
    "THEN 1 ELSE 0 END) ELSE 451 + (CAST(latency_ms * 4 / 1000000 AS INTEGER) - CASE WHEN "
    "CAST(latency_ms * 4 / 1000000 AS INTEGER) > latency_ms * 4 / 1000000 THEN 1 ELSE 0 END) END "
    "ELSE 491 END"
)
_M002_SUMS = (
    "attempt, cost_usd, input_tokens, output_tokens, cache_creation_5m_tokens,"
    " cache_creation_1h_tokens, cache_read_tokens, ts, latency_ms"
)
M002 = Migration(
    "m002_metrics_indexes",
    (
        Native(
            sqlite=(
                "CREATE INDEX IF NOT EXISTS events_metrics_cells ON events (agent, category, tier,"
                f" model, outcome, {_M002_BUCKET}, {_M002_SUMS})",
                f"CREATE INDEX IF NOT EXISTS events_metrics_days ON events ({_M002_DAY}, outcome,"
                f" {_M002_BUCKET}, {_M002_SUMS}, agent, category, model)",
                "CREATE INDEX IF NOT EXISTS events_rerouted ON events (run_id, escalated_from,"
                " fallback_from) WHERE escalated_from IS NOT NULL OR fallback_from IS NOT NULL",
                "DROP INDEX IF EXISTS events_run",
                "CREATE INDEX IF NOT EXISTS events_run_attempt ON events"
                " (run_id, attempt, ts, agent, category, tier, model)",
            ),
            postgres=(),
        ),
    ),
)

# What the client asked for and why the router changed it (the gateway's rewrites).
M003 = Migration(
    "m003_route_columns",
    (
        AddColumn("events", Column("requested_model", TEXT)),
        AddColumn("events", Column("route_reason", TEXT)),
    ),
)

# Importers (``ctxrouter import claude-code``): the API's message id on events, one event per
# ``event_id``, and how far each imported file was read. ``event_id`` becomes unique: importers
# write deterministic ids and rely on the store to never add one twice. Ids were unique in
# practice before (80 random bits); a store that holds copies of one id anyway (a batch written
# twice) keeps the first row and drops the copies (SQLite: only when the index is refused).
M004 = Migration(
    "m004_imports",
    (
        AddColumn("events", Column("message_id", TEXT)),
        Native(
            sqlite=(
                OnDuplicates(
                    "CREATE UNIQUE INDEX events_event_id ON events (event_id)",
                    cleanup="DELETE FROM events"
                    " WHERE seq NOT IN (SELECT MIN(seq) FROM events GROUP BY event_id)",
                ),
            ),
            postgres=(
                "DELETE FROM events AS e USING events AS f"
                " WHERE f.event_id = e.event_id AND f.seq < e.seq",
                "CREATE UNIQUE INDEX events_event_id ON events (event_id)",
            ),
        ),
        CreateIndex("events_message_id", "events", ("message_id",), where="message_id IS NOT NULL"),
        CreateTable(
            "imported_files",
            (
                Column("source", TEXT, null=False),  # the importer: 'claude-code'
                Column("path", TEXT, null=False),  # absolute
                Column("size", INTEGER, null=False),  # bytes read (the next read starts here)
                Column("lines", INTEGER, null=False),  # lines read
                Column("inode", TEXT),  # st_ino, as text: it may not fit a signed 64-bit int
                Column("head_sha256", TEXT),  # SHA-256 of the first line
                Column("mtime", REAL),
                Column("imported_at", REAL, null=False),
            ),
            primary_key=("source", "path"),
        ),
    ),
)

# The gateway kept a client's model that the agent's policy does not allow (override=never, or
# a model of no known tier): below-floor, above-ceiling or outside-tiers, so an alert names it.
M005 = Migration("m005_route_flag", (AddColumn("events", Column("route_flag", TEXT)),))

# In order; a migration's version is its position, from 1. Append only.
MIGRATIONS: tuple[Migration, ...] = (M001, M002, M003, M004, M005)
