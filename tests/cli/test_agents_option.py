"""Every command that names an agent accepts ``--agents DIR`` (repeatable) and sees its agents."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app

runner = CliRunner()
TASK = "Model the threats of the upload service"


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("CTXROUTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, tier in ((first, "haiku"), (second, "opus")):
        folder.mkdir()
        (folder / "threat-modeler.md").write_text(
            f"---\nname: threat-modeler\ndescription: Models threats.\nmodel: {tier}\n---\n"
            "You model the threats of a system from its design documents.\n"
        )
    pipeline = tmp_path / "threats.yaml"
    pipeline.write_text(
        "schema_version: 1\nname: threats\ndescription: One step.\nsteps:\n"
        '  - id: model\n    agent: threat-modeler\n    prompt: "Model the threats: {task}"\n'
    )
    return first, second


COMMANDS = {
    "route": ["route", "threat-modeler", TASK],
    "run": ["run", "threat-modeler", TASK],
    "assign": ["assign", "--agent", "threat-modeler", "--task", TASK],
    "agents show": ["agents", "show", "threat-modeler"],
    "pipeline show": ["pipeline", "show", "threats.yaml"],
    "pipeline run": ["pipeline", "run", "threats.yaml", "--task", TASK],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_agents_folders_are_read_in_order(command: str, folders: tuple[Path, Path]) -> None:
    first, second = folders
    json = [] if command == "pipeline show" else ["--json"]  # its table shows the tier
    argv = [*COMMANDS[command], "--agents", str(first), "--agents", str(second), *json]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert "opus" in result.stdout  # the later folder's threat-modeler won
    without = runner.invoke(app, COMMANDS[command])
    assert without.exit_code == 2 and "threat-modeler" in without.stderr


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("whatif", "no claude-code events recorded"),
        ("profile", "no events recorded yet"),
        ("export claude-code --dry-run --agent threat-modeler --create", "threat-modeler"),
    ],
)
def test_commands_reading_the_catalog_take_agents_too(
    command: str, says: str, folders: tuple[Path, Path]
) -> None:
    first, _ = folders
    (Path.cwd() / ".claude" / "agents").mkdir(parents=True)
    result = runner.invoke(app, [*command.split(), "--agents", str(first)])
    assert "No such option" not in result.output
    assert says in result.output


def test_a_missing_agents_folder_is_named(folders: tuple[Path, Path]) -> None:
    result = runner.invoke(app, ["route", "python-pro", TASK, "--agents", "nowhere"])
    assert result.exit_code == 2
    assert "--agents nowhere: no such folder" in result.stderr
