"""Exporting catalog tiers into Claude Code agent files: the text edits, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxrouter.catalog import load_catalog, parse_agent_text
from ctxrouter.catalog.agent import AgentFormat
from ctxrouter.catalog.catalog import Catalog
from ctxrouter.config import Settings
from ctxrouter.integrations.claude_code.export import (
    Action,
    Refused,
    agent_file_text,
    plan_export,
    read_folder,
    set_model,
    target_tier,
    write,
)
from ctxrouter.policy.tier import Tier


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(Settings.load())


def test_replaces_only_the_model_value() -> None:
    text = "---\nname: a\ndescription: x\nmodel: inherit\ncolor: blue\n---\nBody.\n"
    assert set_model(text, Tier.HAIKU) == (
        "---\nname: a\ndescription: x\nmodel: haiku\ncolor: blue\n---\nBody.\n",
        "inherit",
    )


def test_keeps_comments_quotes_and_key_order() -> None:
    text = (
        "---\n"
        "# our agent\n"
        "name: 'python-pro'   # the name\n"
        'model: "opus"  # chosen in 2025\n'
        "tools: Read, Grep\n"
        'description: "Writes: Python"\n'
        "---\n"
        "Body with model: sonnet in it.\n"
    )
    after, old = set_model(text, Tier.SONNET)
    assert old == "opus"
    assert after == text.replace('model: "opus"', 'model: "sonnet"')


def test_single_quoted_value_keeps_its_quotes() -> None:
    after, _ = set_model("---\nname: a\nmodel: 'haiku'\n---\n", Tier.OPUS)
    assert after == "---\nname: a\nmodel: 'opus'\n---\n"


def test_crlf_file_keeps_crlf_everywhere() -> None:
    text = "---\r\nname: a\r\ndescription: x\r\nmodel: sonnet\r\n---\r\nLine 1\r\nLine 2\r\n"
    after, _ = set_model(text, Tier.HAIKU)
    assert after == text.replace("sonnet", "haiku")
    assert after.count("\r\n") == text.count("\r\n") and "\n" not in after.replace("\r\n", "")


def test_missing_model_goes_after_description() -> None:
    text = "---\nname: a\ndescription: Does x.  # note\ntools: Read\n---\nBody.\n"
    after, old = set_model(text, Tier.HAIKU)
    assert old is None
    assert after == (
        "---\nname: a\ndescription: Does x.  # note\nmodel: haiku\ntools: Read\n---\nBody.\n"
    )


def test_missing_model_with_crlf_gets_a_crlf_line() -> None:
    text = "---\r\nname: a\r\ndescription: x\r\n---\r\nBody.\r\n"
    after, _ = set_model(text, Tier.SONNET)
    assert after == "---\r\nname: a\r\ndescription: x\r\nmodel: sonnet\r\n---\r\nBody.\r\n"


def test_missing_model_after_a_multiline_description() -> None:
    text = "---\nname: a\ndescription: |\n  Line one.\n  Line two.\n# trailing\ncolor: red\n---\n"
    after, _ = set_model(text, Tier.HAIKU)
    assert after == (
        "---\nname: a\ndescription: |\n  Line one.\n  Line two.\nmodel: haiku\n"
        "# trailing\ncolor: red\n---\n"
    )
    agent, _ = parse_agent_text(after)
    assert agent is not None and agent.description == "Line one.\nLine two."


def test_missing_model_without_description_goes_at_the_end() -> None:
    text = "\ufeff---\nname: a\ncolor: red\n---\nBody.\n"
    after, _ = set_model(text, Tier.HAIKU)
    assert after == "\ufeff---\nname: a\ncolor: red\nmodel: haiku\n---\nBody.\n"


def test_empty_and_null_models_are_set() -> None:
    assert set_model("---\nname: a\nmodel:\n---\n", Tier.HAIKU)[0] == (
        "---\nname: a\nmodel: haiku\n---\n"
    )
    assert set_model("---\nname: a\nmodel:   # pick one\n---\n", Tier.HAIKU)[0] == (
        "---\nname: a\nmodel: haiku   # pick one\n---\n"
    )
    assert set_model("---\nname: a\nmodel: ~\n---\n", Tier.OPUS)[0] == (
        "---\nname: a\nmodel: opus\n---\n"
    )


def test_the_right_tier_already_changes_nothing() -> None:
    text = "---\nname: a\nmodel: haiku # fine\n---\n"
    assert set_model(text, Tier.HAIKU) == (text, "haiku")


def test_claude_ctx_mapping_is_not_flattened() -> None:
    text = "---\nname: a\nmodel:\n  preference: sonnet\n  fallbacks: [opus]\n---\n"
    with pytest.raises(Refused, match="claude-ctx") as caught:
        set_model(text, Tier.HAIKU)
    assert caught.value.line == 3 and caught.value.error is False


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("name: a\n", "must start with a '---'", 1),
        ("---\nname: a\n", "not closed", 1),
        ("---\nname: a\nmodel: [\n---\n", "malformed YAML", 4),
        ("---\nname: a\nmodel: [haiku]\n---\n", "not a list", 3),
        ("---\nname: a\nmodel: haiku\nmodel: opus\n---\n", "appears twice", 4),
        ("---\n{name: a, model: haiku}\n---\n", "one {...} mapping", 2),
        ("---\nname: a\nmodel: |\n  haiku\n---\n", "block scalar", 3),
    ],
)
def test_files_it_cannot_edit_safely(text: str, message: str, line: int) -> None:
    with pytest.raises(Refused, match=message.replace("{", r"\{").replace(".", r"\.")) as caught:
        set_model(text, Tier.HAIKU)
    assert caught.value.line == line and caught.value.error is True


def test_an_edit_that_would_touch_another_field_is_refused() -> None:
    # `model: *c` is an alias of color's value: changing it in place would change color too
    with pytest.raises(Refused, match="could not be edited safely"):
        set_model("---\nname: a\ncolor: &c red\nmodel: *c\n---\n", Tier.HAIKU)


def test_tier_for_fixed_and_context_dependent_agents(catalog: Catalog) -> None:
    assert target_tier(catalog["python-pro"]) == (Tier.HAIKU, "")
    tier, note = target_tier(catalog["database-optimizer"])
    assert tier is Tier.HAIKU
    assert note.startswith("context-dependent: base tier haiku; it escalates to sonnet")
    tier, note = target_tier(catalog["learning-guide"])
    assert tier is Tier.SONNET and "takes a fast path to haiku" in note


def test_created_file_is_a_valid_claude_code_agent(catalog: Catalog) -> None:
    agent = catalog["python-pro"].model_copy(
        update={"tools": ("Read", "Write"), "description": "Python: typed, tested # really"}
    )
    text = agent_file_text(agent, Tier.HAIKU)
    assert text.startswith("---\nname: python-pro\ndescription: 'Python: typed, tested # really'\n")
    assert "\ntools: Read, Write\nmodel: haiku\n---\n" in text
    parsed, problems = parse_agent_text(text, Path("python-pro.md"))
    assert problems == [] and parsed is not None
    assert parsed.format is AgentFormat.CLAUDE_CODE
    assert parsed.policy.preference is Tier.HAIKU
    assert parsed.tools == ("Read", "Write")
    assert parsed.body == agent.body


def test_plan_changes_skips_and_creates(catalog: Catalog, tmp_path: Path) -> None:
    folder = tmp_path / "agents"
    texts = {
        folder / "python-pro.md": "---\nname: python-pro\ndescription: x\nmodel: opus\n---\n",
        folder / "debugger.md": "---\nname: debugger\ndescription: x\nmodel: sonnet\n---\n",
        folder / "ours.md": "---\nname: our-own\ndescription: x\n---\n",
        folder / "ctx.md": "---\nname: sql-pro\nmodel:\n  preference: haiku\n---\n",
        folder / "broken.md": "---\nname: [\n---\n",
        folder / "README.md": "# notes\n",
        # names another agent, so database-optimizer cannot be created there
        folder / "database-optimizer.md": "---\nname: mine\n---\n",
    }
    plan = plan_export(
        folder,
        texts,
        catalog,
        create=True,
        only={"python-pro", "debugger", "sql-pro", "database-optimizer", "golang-pro"},
    )
    by = {(e.action, e.path.name): e for e in plan}
    assert set(by) == {
        (Action.SKIPPED, "README.md"),
        (Action.SKIPPED, "broken.md"),
        (Action.UNCHANGED, "debugger.md"),
        (Action.CHANGED, "python-pro.md"),
        (Action.SKIPPED, "ctx.md"),
        (Action.SKIPPED, "database-optimizer.md"),
        (Action.CREATED, "golang-pro.md"),
    }
    assert by[Action.CHANGED, "python-pro.md"].old_model == "opus"
    assert by[Action.SKIPPED, "broken.md"].error
    assert by[Action.SKIPPED, "README.md"].note.startswith("line 1: no YAML frontmatter")
    assert not by[Action.SKIPPED, "README.md"].error
    assert not by[Action.SKIPPED, "ctx.md"].error
    assert "does not name 'database-optimizer'" in by[Action.SKIPPED, "database-optimizer.md"].note
    created = by[Action.CREATED, "golang-pro.md"]
    assert created.path == folder / "golang-pro.md" and created.diff().startswith("--- /dev/null")


def test_unknown_agent_names_are_skipped_not_errors(catalog: Catalog, tmp_path: Path) -> None:
    texts = {tmp_path / "x.md": "---\nname: not-in-catalog\n---\n"}
    (entry,) = plan_export(tmp_path, texts, catalog)
    assert entry.action is Action.SKIPPED and entry.note == "not a catalog agent"
    assert not entry.error


def test_write_then_read_is_idempotent(catalog: Catalog, tmp_path: Path) -> None:
    folder = tmp_path / "agents"
    folder.mkdir()
    crlf = b"---\r\nname: python-pro\r\ndescription: x\r\nmodel: inherit\r\n---\r\nBody\r\n"
    (folder / "python-pro.md").write_bytes(crlf)
    (folder / "python-pro.md").chmod(0o640)
    first = plan_export(folder, read_folder(folder)[0], catalog, create=True, only={"sql-pro"})
    assert [e.action for e in first] == [Action.CREATED]
    write(first + plan_export(folder, read_folder(folder)[0], catalog, only={"python-pro"}))
    assert (folder / "python-pro.md").read_bytes() == crlf.replace(b"inherit", b"haiku")
    assert (folder / "python-pro.md").stat().st_mode & 0o777 == 0o640
    again = plan_export(folder, read_folder(folder)[0], catalog, create=True)
    touched = {e.path.name: e.action for e in again if e.action is not Action.CREATED}
    assert touched == {"python-pro.md": Action.UNCHANGED, "sql-pro.md": Action.UNCHANGED}
    assert not list(folder.glob(".*.tmp"))
