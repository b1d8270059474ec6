"""``ctxrouter import claude-code`` on transcripts the real Claude Code CLI wrote in this test run
(the pinned 2.1.328 against the fake upstream, isolated HOME), checked against what the fake
answered and against ccusage on the same files."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app
from ctxrouter.config import Settings
from ctxrouter.integrations.claude_code.importer import ImportSummary, TranscriptImporter
from ctxrouter.models import ModelRegistry
from ctxrouter.models.bulk_pricing import Pricer
from ctxrouter.telemetry import Event, SQLiteStore
from ctxrouter.testing.fake_anthropic import FakeAnthropic, Fault
from tests.harness.ccusage import ccusage_daily, token_totals
from tests.harness.claude_code import SpawnSubagent, is_subagent_request, run_claude

Tokens = tuple[int, int, int, int, int]  # input, output, cache writes 5m and 1h, cache reads


@dataclass
class Metered:
    """Answers as :class:`SpawnSubagent` does, each answer with usage of its own (noted), the
    first main turn and the subagent's answer in two content blocks each (two lines each)."""

    spawn: SpawnSubagent
    answers: list[tuple[str, Tokens]] = field(default_factory=list)

    def __call__(self, body: Any) -> Fault:
        who = "doc-writer" if is_subagent_request(body) else "main"
        spawned = self.spawn(body)
        n = len(self.answers) + 1
        tokens: Tokens = (n, 10 * n + 1, 100 * n, 7 * n, 1000 * n)
        self.answers.append((who, tokens))
        usage = {
            "input_tokens": tokens[0],
            "output_tokens": tokens[1],
            "cache_creation_input_tokens": tokens[2] + tokens[3],
            "cache_read_input_tokens": tokens[4],
            "cache_creation": {
                "ephemeral_5m_input_tokens": tokens[2],
                "ephemeral_1h_input_tokens": tokens[3],
            },
        }
        if who != "main":
            parts = [{"type": "text", "text": "Part one."}, {"type": "text", "text": "Part two."}]
            return Fault.ok(content=parts, usage=usage)
        if spawned is not None and spawned.content:
            text = {"type": "text", "text": "Delegating to doc-writer."}
            return Fault.ok(content=[text, *spawned.content], usage=usage)
        return Fault.ok(usage=usage)


DELEGATE = "Document caching with doc-writer."


@dataclass
class Claude:
    """The real Claude Code CLI in one project with an isolated home, against one fake upstream
    whose message and request ids never repeat."""

    cli: Path
    fake: FakeAnthropic
    metered: Metered
    project: Path
    home: Path

    def run(self, prompt: str = DELEGATE, *args: str) -> list[tuple[str, Tokens]]:
        """Run ``claude -p``; the (agent, tokens) the fake answered during the run."""
        before = len(self.metered.answers)
        run = run_claude(
            prompt,
            base_url=self.fake.base_url,
            home=self.home,
            cwd=self.project,
            binary=self.cli,
            args=args,
        )
        assert run.ok, run.stderr or run.stdout
        assert len(self.fake.requests) == len(self.metered.answers)
        return self.metered.answers[before:]


@pytest.fixture
def claude(claude_cli: Path, tmp_path: Path) -> Iterator[Claude]:
    folder = tmp_path / "project" / ".claude" / "agents"
    folder.mkdir(parents=True)
    (folder / "doc-writer.md").write_text(
        "---\nname: doc-writer\ndescription: Writes short docs.\ntools: Read\n---\n"
        "You write one short paragraph.\n"
    )
    metered = Metered(SpawnSubagent("doc-writer", "Write a paragraph about caching."))
    with FakeAnthropic(responder=metered) as fake:
        yield Claude(claude_cli, fake, metered, tmp_path / "project", tmp_path / "claude-home")


def import_into(store: SQLiteStore, home: Path) -> ImportSummary:
    importer = TranscriptImporter(
        store, home / ".claude" / "projects", pricer=Pricer(ModelRegistry.load(Settings()))
    )
    importer.plan()
    return importer.run()


def tokens_of(event: Event) -> Tokens:
    return (
        event.input_tokens,
        event.output_tokens,
        event.cache_creation_5m_tokens,
        event.cache_creation_1h_tokens,
        event.cache_read_tokens,
    )


def store_totals(store: SQLiteStore) -> dict[str, int]:
    (row,) = store.query(
        "SELECT SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_5m_tokens"
        " + cache_creation_1h_tokens), SUM(cache_read_tokens) FROM events"
    )
    names = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}


def test_each_response_of_a_real_session_is_one_event_with_the_tokens_it_was_sent(
    claude: Claude, tmp_path: Path
) -> None:
    answers = claude.run()
    with SQLiteStore(tmp_path / "store.db") as store:
        summary = import_into(store, claude.home)
        events = store.events()
    # main: the delegating turn (two blocks) and the final answer; the subagent: two blocks
    assert len(answers) == 3 and len(events) == 3
    assert Counter((e.agent, tokens_of(e)) for e in events) == Counter(answers)
    assert (summary.response_lines, summary.duplicate_lines, summary.added) == (5, 2, 3)
    assert summary.files_found == 2 and summary.problem_count == 0
    sessions = {e.session_id for e in events}
    assert len(sessions) == 1  # the subagent's responses belong to its parent's session
    assert all(e.model == "claude-opus-5-5" and e.tier == "opus" for e in events)
    assert all(e.cost_usd is not None and e.cost_usd > 0 for e in events)
    assert all(e.request_id and e.message_id and e.provider == "claude-code" for e in events)


def test_a_second_run_in_the_same_home_is_read_incrementally(
    claude: Claude, tmp_path: Path
) -> None:
    first = claude.run()
    with SQLiteStore(tmp_path / "store.db") as store:
        import_into(store, claude.home)
        again = import_into(store, claude.home)
        assert (again.added, again.lines_read, again.files_unchanged) == (0, 0, 2)
        second = claude.run("Now summarise it.", "--continue")
        more = import_into(store, claude.home)
        events = store.events()
    # --continue appends to the same session file: only its new lines are read
    assert more.files_read == 1 and more.files_unchanged == 1
    assert 0 < more.lines_read < more.files_found * 100
    assert more.added == len(second) == 1
    assert Counter((e.agent, tokens_of(e)) for e in events) == Counter(first + second)


def test_broken_lines_in_a_real_transcript_are_reported_with_file_and_line(
    claude: Claude, tmp_path: Path
) -> None:
    answers = claude.run()
    (main,) = (claude.home / ".claude" / "projects").glob("*/*.jsonl")
    lines = main.read_text().splitlines(keepends=True)
    responses = [i for i, line in enumerate(lines) if '"type":"assistant"' in line]
    broken = responses[-1]
    lines[broken] = lines[broken][:80] + "\n"  # the last answer cut short
    main.write_text("".join(lines))
    with SQLiteStore(tmp_path / "store.db") as store:
        summary = import_into(store, claude.home)
        assert store.count_events() == len(answers) - 1
    (problem,) = summary.problems
    assert problem.file == f"{main.parent.name}/{main.name}" and problem.line == broken + 1
    assert problem.reason.startswith("broken JSON")


def test_token_totals_equal_ccusage_on_the_same_transcripts(
    claude: Claude, ccusage_cli: Path, tmp_path: Path
) -> None:
    claude.run()
    claude.run("Now summarise it.", "--continue")
    claude.run("A new session, no agent.")
    with SQLiteStore(tmp_path / "store.db") as store:
        summary = import_into(store, claude.home)
        ours = store_totals(store)
    daily = ccusage_daily(
        ccusage_cli, config_dir=claude.home / ".claude", home=tmp_path / "ccusage-home"
    )
    assert token_totals(daily) == ours
    assert sum(ours.values()) > 0 and summary.added == 5
    # ccusage has no price for the 5.5 models and reports $0; ctxrouter prices them
    assert "claude-opus-5-5" in daily["totals"]["unpricedModels"]
    assert daily["totals"]["totalCost"] == 0
    assert summary.cost_usd > 0 and not summary.unpriced


def test_the_command_line_imports_a_real_home(claude: Claude, tmp_path: Path) -> None:
    answers = claude.run()
    db = tmp_path / "cli.db"
    args = ["import", "claude-code", str(claude.home / ".claude"), "--db", str(db), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["responses"]["added"] == len(answers)
    assert data["tokens"]["total"] == sum(sum(t) for _, t in answers)
    assert data["agents"] == {"main": 2, "doc-writer": 1} and data["store"] == str(db)
    again = json.loads(CliRunner().invoke(app, args).stdout)
    assert again["responses"]["added"] == 0 and again["files"]["unchanged"] == 2
